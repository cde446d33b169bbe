"""Data plane tests need root: they build namespaces and carry real traffic."""

from __future__ import annotations

import os

import pytest


def pytest_collection_modifyitems(items):
    if os.geteuid() != 0:
        for item in items:
            if "tests/dataplane" in str(item.fspath) and "ppv2" not in str(item.fspath):
                item.add_marker(pytest.mark.skip(reason="data plane tests need root"))
