"""boto3 clients of the daemon's own API, as the CLI would make them: one per access key,
region and service, kept (making one costs milliseconds of model loading) and shared by the
worker threads (botocore clients are thread-safe; making them is not: a lock)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import UTC, datetime
from typing import Any

import botocore.session
from botocore.config import Config
from botocore.utils import parse_timestamp as parse_any_timestamp

# Clients kept at most: a few accounts times regions times services.
KEPT = 256
# The console's calls are the user's clicks: one try each, so that an error shows at once;
# botocore's own parameter checks are off, so that what refuses a request is the API.
_CONFIG = Config(retries={"max_attempts": 1}, proxies={}, connect_timeout=5, read_timeout=60,
                 parameter_validation=False)


class Clients:
    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint
        self._session = botocore.session.get_session()
        self._session.get_component("response_parser_factory").set_parser_defaults(
            timestamp_parser=parse_timestamp)
        self._lock = threading.Lock()
        self._kept: OrderedDict[tuple[str, str, str, str], Any] = OrderedDict()

    def get(self, service: str, access_key: str, secret_key: str, region: str) -> Any:
        key = (service, access_key, secret_key, region)
        with self._lock:
            client = self._kept.get(key)
            if client is None:
                client = self._session.create_client(
                    service, region_name=region, endpoint_url=self.endpoint,
                    aws_access_key_id=access_key, aws_secret_access_key=secret_key,
                    config=_CONFIG)
                self._kept[key] = client
                if len(self._kept) > KEPT:
                    self._kept.popitem(last=False)
            else:
                self._kept.move_to_end(key)
            return client


def parse_timestamp(value: str) -> datetime:
    """The API's ISO 8601 times, read by the standard library (botocore's own parser,
    dateutil's, took half of the endpoint list's time with 100 endpoints); anything else
    as botocore reads it."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return parse_any_timestamp(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def endpoint_of(host: str, port: int) -> str:
    """Where the daemon listening on ``host`` is reached from this machine."""
    if host in ("", "0.0.0.0"):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
