"""Numbers written as text, read as AWS reads them: ASCII digits.

``str.isdigit`` also takes '²' (which ``int()`` refuses: a 500) and the Arabic-Indic or
fullwidth digits (which ``int()`` reads, though AWS would not); ``int()`` also takes ' 1'
and '1_0', and refuses more than 4,300 digits (Python's limit on a conversion, another
500). Every number read from text (a member the model types as a string, a list index,
a header, a token) goes through ``integer``.
"""

from __future__ import annotations

import re

_UNSIGNED = re.compile("[0-9]{1,4300}")
_SIGNED = re.compile("[-+]?[0-9]{1,4300}")


def integer(text: object, signed: bool = False) -> int | None:
    """``text`` as an int when it is ASCII digits (after a sign when ``signed``), else None."""
    if not isinstance(text, str) or not (_SIGNED if signed else _UNSIGNED).fullmatch(text):
        return None
    return int(text)
