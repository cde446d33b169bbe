"""The flow logs suite: records of real traffic need root (namespaces, curls); the API's
answers and errors run on the shared API-only daemon."""

from __future__ import annotations

import os

import pytest

from tests.api.conftest import client as client  # the checked boto3 clients

NEED_ROOT = ("test_records.py",)


def pytest_collection_modifyitems(items):
    if os.geteuid() != 0:
        for item in items:
            if "tests/flowlogs" in str(item.fspath) and item.fspath.basename in NEED_ROOT:
                item.add_marker(pytest.mark.skip(reason="flow logs of real traffic need root"))
