"""Files only their owner may read, from their creation on: keys, tokens, the runtime
record, the serving snapshot. ``replace_private`` swaps the whole file in, for one a reader
may open at any moment (it sees the old content or the new, never a part), and never writes
through a link planted where its temporary file goes."""

from __future__ import annotations

import os
from pathlib import Path


def write_private(path: Path, data: bytes) -> None:
    """``data`` in a file only its owner may read, from its creation on."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(data)


def replace_private(path: Path, data: bytes) -> None:
    """``data`` as the whole of ``path``, swapped in at once, 0600."""
    temporary = path.with_name(f"{path.name}.{os.getpid()}.new")
    temporary.unlink(missing_ok=True)
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(data)
    os.replace(temporary, path)
