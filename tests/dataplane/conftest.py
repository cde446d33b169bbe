"""Data plane tests need root: they build namespaces and carry real traffic."""

from __future__ import annotations

import os

import pytest

# The files that build namespaces; the codec and the pump run anywhere.
NEED_ROOT = ("test_seed000.py", "test_health.py", "test_haproxy.py", "test_concurrency.py",
             "test_sockets.py")


def pytest_collection_modifyitems(items):
    if os.geteuid() != 0:
        for item in items:
            if "tests/dataplane" in str(item.fspath) and item.fspath.basename in NEED_ROOT:
                item.add_marker(pytest.mark.skip(reason="data plane tests need root"))
