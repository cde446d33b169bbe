"""CloudFormation's errors: the modelled ones (``ChangeSetNotFound``...) and ``ValidationError``,
which its model does not list but which is what it answers most bad requests with.
"""

from __future__ import annotations

from types import SimpleNamespace

from pocketlink.wire import specs
from pocketlink.wire.errors import ServiceError

cloudformation = SimpleNamespace(**specs.load("cloudformation").errors)


class ValidationError(ServiceError):
    code = "ValidationError"


class TemplateError(ValidationError):
    """The template itself is wrong: its text, its shape, its references."""


def stack_not_found(name: str) -> ValidationError:
    """What every stack operation answers for a stack that is not there (clients, the CLI's
    waiters and ``aws cloudformation deploy``, match on these words)."""
    return ValidationError(f"Stack with id {name} does not exist")
