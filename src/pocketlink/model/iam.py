"""What pocketlink itself keeps of IAM (IAM is the backend's): the temporary credentials
it hands instances for their instance profile's role.

Kept in the store, so that a key an instance's SDK holds still works after a restart.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pocketlink.model.base import Resource


@dataclass(kw_only=True)
class RoleSession(Resource):
    """One set of an instance's role credentials; ``id`` is its access key id (``ASIA...``),
    ``account`` the instance's account, the one the key acts for in every service."""

    kind = "role-session"

    secret_access_key: str
    session_token: str
    instance_id: str
    role_name: str
    role_id: str  # AROA..., IAM's id of the role (GetCallerIdentity's UserId)
    issued: datetime
    expiration: datetime

    @property
    def assumed_role_arn(self) -> str:
        """The caller ARN AWS gives an instance's role session: its session name is the
        instance id."""
        return f"arn:aws:sts::{self.account}:assumed-role/{self.role_name}/{self.instance_id}"
