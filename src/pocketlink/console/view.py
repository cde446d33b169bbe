"""What a page is given (``View``: the request, the session, the API's clients) and what
it answers besides a ``Page``: a ``Redirect`` after a form that worked, ``Json`` for the
live status the page's script polls."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from pocketlink.console.aws import Clients
from pocketlink.console.markup import error_flash
from pocketlink.console.session import Session
from pocketlink.wire.message import HttpRequest


@dataclass
class Redirect:
    """Where the browser goes after a form succeeded (303: GET it), with a green flash."""
    path: str
    done: str = ""


@dataclass
class Json:
    data: Any


@dataclass
class View:
    """What a page is given: the request's parts, the session and the API's clients."""
    request: HttpRequest
    session: Session
    params: dict[str, str]
    query: dict[str, str]
    form: dict[str, list[str]]
    clients: Clients
    strict: bool
    flashes: list[str] = field(default_factory=list)

    def client(self, service: str) -> Any:
        key, secret = self.session.signing_key
        return self.clients.get(service, key, secret, self.session.region)

    @property
    def ec2(self) -> Any:
        return self.client("ec2")

    @property
    def elbv2(self) -> Any:
        return self.client("elbv2")

    @property
    def route53(self) -> Any:
        return self.client("route53")

    @property
    def cloudformation(self) -> Any:
        return self.client("cloudformation")

    @property
    def posted(self) -> bool:
        return self.request.method == "POST"

    def value(self, name: str, default: str = "") -> str:
        """A field's value as posted (a form shown again keeps what was typed), else
        ``default``."""
        if self.posted:
            return self.form.get(name, [""])[0]
        return self.query.get(name, default)

    def values(self, name: str, default: list[str] | None = None) -> list[str]:
        if self.posted:
            return self.form.get(name, [])
        return default or []

    def name_tag_specifications(self, resource_type: str) -> dict:
        """A create form's Name field as the create call's ``TagSpecifications`` (none
        when it was left empty)."""
        name = self.value("name").strip()
        if not name:
            return {}
        return {"TagSpecifications": [{"ResourceType": resource_type,
                                       "Tags": [{"Key": "Name", "Value": name}]}]}

    def failed(self, error: ClientError) -> None:
        self.flashes.append(error_flash(error))
