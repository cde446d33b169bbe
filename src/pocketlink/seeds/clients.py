"""The AWS client every seed drives pocketlink with: one place for what a seed's reader
would configure (the daemon's endpoint, the account's key, a couple of retries)."""

from __future__ import annotations

import boto3
from botocore.config import Config


def seed_client(endpoint: str, service: str, account: str, region: str):
    """A boto3 client acting for ``account`` (its 12-digit access key)."""
    return boto3.client(service, endpoint_url=endpoint, region_name=region,
                        aws_access_key_id=account, aws_secret_access_key="seed",
                        config=Config(retries={"max_attempts": 2}))
