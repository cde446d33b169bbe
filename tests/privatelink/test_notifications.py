"""Connection notifications: which endpoint events go to which SNS topic, for a service or
for one endpoint. (The events themselves have no API to read them back.)"""

from __future__ import annotations

import re

import pytest

from tests.privatelink.conftest import HEX17, REGION, aws_error


def topic(account: str, name: str = "endpoint-events") -> str:
    return f"arn:aws:sns:{REGION}:{account}:{name}"


def notifications(ec2, **params) -> list[dict]:
    return ec2.describe_vpc_endpoint_connection_notifications(**params)[
        "ConnectionNotificationSet"]


def test_a_notification_for_a_service(provider):
    made = provider.ec2.create_vpc_endpoint_connection_notification(
        ServiceId=provider.service_id, ConnectionNotificationArn=topic(provider.account),
        ConnectionEvents=["Connect", "Accept", "Reject", "Delete"],
        ClientToken="n-1")
    notification = made["ConnectionNotification"]
    assert made["ClientToken"] == "n-1"
    assert re.fullmatch(rf"vpce-nfn-{HEX17}", notification["ConnectionNotificationId"])
    assert (notification["ServiceId"], notification["ConnectionNotificationArn"],
            notification["ConnectionNotificationType"], notification["ConnectionNotificationState"],
            sorted(notification["ConnectionEvents"])) == (
        provider.service_id, topic(provider.account), "Topic", "Enabled",
        ["Accept", "Connect", "Delete", "Reject"])
    assert "VpcEndpointId" not in notification
    assert notifications(provider.ec2) == [notification]
    by_id = notifications(provider.ec2,
                          ConnectionNotificationId=notification["ConnectionNotificationId"])
    assert by_id == [notification]
    by_service = notifications(provider.ec2, Filters=[
        {"Name": "service-id", "Values": [provider.service_id]}])
    assert by_service == [notification]


def test_a_notification_for_an_endpoint(provider, consumer):
    endpoint_id = consumer.create_endpoint(provider.service_name)["VpcEndpointId"]
    notification = consumer.ec2.create_vpc_endpoint_connection_notification(
        VpcEndpointId=endpoint_id, ConnectionNotificationArn=topic(consumer.account),
        ConnectionEvents=["Accept", "Reject"])["ConnectionNotification"]
    assert (notification["VpcEndpointId"], notification["ConnectionEvents"]) == (
        endpoint_id, ["Accept", "Reject"])
    assert "ServiceId" not in notification
    assert notifications(consumer.ec2) == [notification]
    assert notifications(provider.ec2) == []  # the provider does not see the consumer's


def test_modify_a_notification(provider):
    notification_id = provider.ec2.create_vpc_endpoint_connection_notification(
        ServiceId=provider.service_id, ConnectionNotificationArn=topic(provider.account),
        ConnectionEvents=["Connect"])["ConnectionNotification"]["ConnectionNotificationId"]
    assert provider.ec2.modify_vpc_endpoint_connection_notification(
        ConnectionNotificationId=notification_id,
        ConnectionNotificationArn=topic(provider.account, "other"),
        ConnectionEvents=["Accept", "Delete"])["ReturnValue"] is True
    [found] = notifications(provider.ec2, ConnectionNotificationId=notification_id)
    assert (found["ConnectionNotificationArn"], sorted(found["ConnectionEvents"])) == (
        topic(provider.account, "other"), ["Accept", "Delete"])
    provider.ec2.modify_vpc_endpoint_connection_notification(
        ConnectionNotificationId=notification_id, ConnectionEvents=["Reject"])
    [found] = notifications(provider.ec2, ConnectionNotificationId=notification_id)
    assert (found["ConnectionNotificationArn"], found["ConnectionEvents"]) == (
        topic(provider.account, "other"), ["Reject"])


def test_delete_notifications(provider):
    notification_id = provider.ec2.create_vpc_endpoint_connection_notification(
        ServiceId=provider.service_id, ConnectionNotificationArn=topic(provider.account),
        ConnectionEvents=["Connect"])["ConnectionNotification"]["ConnectionNotificationId"]
    missing = "vpce-nfn-0123456789abcdef0"
    [failure] = provider.ec2.delete_vpc_endpoint_connection_notifications(
        ConnectionNotificationIds=[notification_id, missing])["Unsuccessful"]
    assert (failure["ResourceId"], failure["Error"]["Code"]) == (
        missing, "InvalidConnectionNotification")
    assert notifications(provider.ec2) == []
    with aws_error("InvalidConnectionNotification"):
        provider.ec2.modify_vpc_endpoint_connection_notification(
            ConnectionNotificationId=notification_id, ConnectionEvents=["Accept"])


@pytest.mark.parametrize(("arn", "events", "code"), [
    ("not-an-arn", ["Connect"], "InvalidParameter"),
    ("arn:aws:sqs:us-east-1:111111111111:queue", ["Connect"], "InvalidParameter"),
    (None, ["Connected"], "InvalidParameter"),
    (None, [], "MissingParameter"),  # an empty list is no list on the query protocol's wire
])
def test_bad_topics_and_events_are_refused(provider, arn, events, code):
    with aws_error(code):
        provider.ec2.create_vpc_endpoint_connection_notification(
            ServiceId=provider.service_id, ConnectionNotificationArn=arn or topic(provider.account),
            ConnectionEvents=events)
    assert notifications(provider.ec2) == []


def test_a_notification_names_one_existing_target(provider, consumer):
    with aws_error("InvalidParameter"):
        provider.ec2.create_vpc_endpoint_connection_notification(
            ConnectionNotificationArn=topic(provider.account), ConnectionEvents=["Connect"])
    with aws_error("InvalidVpcEndpointServiceId.NotFound"):
        provider.ec2.create_vpc_endpoint_connection_notification(
            ServiceId="vpce-svc-0123456789abcdef0",
            ConnectionNotificationArn=topic(provider.account), ConnectionEvents=["Connect"])
    with aws_error("InvalidVpcEndpointServiceId.NotFound"):  # another account's service
        consumer.ec2.create_vpc_endpoint_connection_notification(
            ServiceId=provider.service_id, ConnectionNotificationArn=topic(consumer.account),
            ConnectionEvents=["Connect"])
    with aws_error("InvalidVpcEndpointId.NotFound"):
        provider.ec2.create_vpc_endpoint_connection_notification(
            VpcEndpointId="vpce-0123456789abcdef0",
            ConnectionNotificationArn=topic(provider.account), ConnectionEvents=["Connect"])
