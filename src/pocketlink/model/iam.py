"""What pocketlink itself keeps of IAM (IAM is the backend's): the temporary credentials
it hands instances for their instance profile's role, and callers of STS's AssumeRole.

Kept in the store, so that a key an instance's SDK holds still works after a restart.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pocketlink.model.base import Resource


@dataclass(kw_only=True)
class RoleSession(Resource):
    """One set of role credentials, an instance's or AssumeRole's; ``id`` is its access
    key id (``ASIA...``), ``account`` the role's account, the one the key acts for in every
    service."""

    kind = "role-session"

    secret_access_key: str
    session_token: str
    instance_id: str  # "" for AssumeRole's
    role_name: str
    role_id: str  # AROA..., IAM's id of the role (GetCallerIdentity's UserId)
    issued: datetime
    expiration: datetime
    session_name: str = ""  # AssumeRole's RoleSessionName; an instance's is its id

    @property
    def name(self) -> str:
        return self.session_name or self.instance_id

    @property
    def assumed_role_arn(self) -> str:
        """The caller ARN AWS gives a role session: ``assumed-role/ROLE/SESSION``."""
        return f"arn:aws:sts::{self.account}:assumed-role/{self.role_name}/{self.name}"
