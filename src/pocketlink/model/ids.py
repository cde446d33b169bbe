"""AWS-shaped identifiers: a prefix and 17 lowercase hex digits, as EC2 mints them."""

from __future__ import annotations

import re
import secrets
import string


def new_id(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(9)[:17]}"


def random_label(length: int) -> str:
    alphabet = string.ascii_lowercase + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(length))


def mac_address() -> str:
    """A locally administered unicast MAC, as EC2 gives ENIs (``02:...``)."""
    return "02:" + ":".join(f"{b:02x}" for b in secrets.token_bytes(5))


_ID = re.compile(r"^[a-z]+(-[a-z]+)*-[0-9a-f]{8}([0-9a-f]{9})?$")


def looks_like(prefix: str, value: str) -> bool:
    """Whether ``value`` is a well-formed ``prefix-`` id (8 or 17 hex digits, as AWS accepts)."""
    return value.startswith(prefix + "-") and bool(_ID.match(value)) and \
        value.count("-") == prefix.count("-") + 1
