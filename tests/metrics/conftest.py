"""The metrics suite: the network tests need root (namespaces, real traffic); the API's
answers and errors run on the shared API-only daemon."""

from __future__ import annotations

import os

import pytest

NEED_ROOT = ("test_measured.py",)


def pytest_collection_modifyitems(items):
    if os.geteuid() != 0:
        for item in items:
            if "tests/metrics" in str(item.fspath) and item.fspath.basename in NEED_ROOT:
                item.add_marker(pytest.mark.skip(reason="the metrics of real traffic need root"))
