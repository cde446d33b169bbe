"""A stack operation under way when the daemon stops is not left in progress for ever:
the restarted daemon fails it, saying why, and the stack can be deleted."""

from __future__ import annotations

import os

import pytest

from tests.cloudformation.templates import PRIVATELINK

FAST = {"Delay": 1, "MaxAttempts": 300}


def test_interrupted_operation_fails(make_daemon):
    if os.geteuid() != 0:
        pytest.skip("stacks make real namespaces: root needed")
    daemon = make_daemon("--max-request-rate", "1000000")
    cfn = daemon.client("cloudformation", "555555555555")
    cfn.create_stack(StackName="cut", TemplateBody=PRIVATELINK)
    daemon.restart()
    cfn = daemon.client("cloudformation", "555555555555")
    stack = cfn.describe_stacks(StackName="cut")["Stacks"][0]
    assert stack["StackStatus"] in ("CREATE_FAILED", "CREATE_COMPLETE")
    if stack["StackStatus"] == "CREATE_FAILED":  # the stop came before the end (the usual)
        assert stack["StackStatusReason"] == "pocketlink stopped while this operation ran"
    cfn.delete_stack(StackName="cut")
    cfn.get_waiter("stack_delete_complete").wait(StackName="cut", WaiterConfig=FAST)
    ec2 = daemon.client("ec2", "555555555555")
    assert [v for v in ec2.describe_vpcs()["Vpcs"] if not v["IsDefault"]] == []
