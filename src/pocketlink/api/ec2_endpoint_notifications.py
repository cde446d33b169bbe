"""Connection notifications: which endpoint events go to which SNS topic.

pocketlink has no SNS yet, so each notification keeps the events it covers, with their
time, ready to be delivered once a topic can receive them.
"""

from __future__ import annotations

import re

from pocketlink.api import filters, pages
from pocketlink.api.context import RequestContext
from pocketlink.api.ec2_endpoint_services import require_service
from pocketlink.api.errors import ec2
from pocketlink.api.handlers import operation
from pocketlink.api.lookups import owned, require
from pocketlink.api.privatelink_common import Unsuccessful
from pocketlink.model import ids
from pocketlink.model.privatelink import ConnectionNotification, VpcEndpoint

EVENTS = ("Accept", "Connect", "Delete", "Reject")
SNS_ARN = re.compile(r"^arn:aws:sns:[a-z0-9-]+:\d{12}:[\w-]{1,256}$")

NOTIFICATION_FILTERS: dict[str, filters.Field] = {
    "connection-notification-arn": lambda n: n.arn,
    "connection-notification-id": lambda n: n.id,
    "connection-notification-state": lambda n: n.state,
    "connection-notification-type": lambda n: "Topic",
    "service-id": lambda n: n.service_id,
    "vpc-endpoint-id": lambda n: n.vpc_endpoint_id,
}


def describe_notification(notification: ConnectionNotification) -> dict:
    item = {"ConnectionNotificationId": notification.id,
            "ConnectionNotificationType": "Topic",
            "ConnectionNotificationArn": notification.arn,
            "ConnectionEvents": list(notification.events),
            "ConnectionNotificationState": notification.state,
            "ServiceRegion": notification.region}
    if notification.service_id:
        item["ServiceId"] = notification.service_id
    if notification.vpc_endpoint_id:
        item["VpcEndpointId"] = notification.vpc_endpoint_id
    return item


def _check(arn: str, events: list[str]) -> list[str]:
    if not SNS_ARN.match(arn):
        raise ec2.InvalidParameter(f"Invalid SNS topic ARN: {arn}")
    if not events:
        raise ec2.InvalidParameter("ConnectionEvents must name at least one event.")
    for event in events:
        if event not in EVENTS:
            raise ec2.InvalidParameter(
                f"Invalid connection event {event}: use Accept, Connect, Delete or "
                "Reject.")
    return list(dict.fromkeys(events))


@operation("ec2", "CreateVpcEndpointConnectionNotification")
def create_notification(context: RequestContext, params: dict) -> dict:
    service_id, endpoint_id = params.get("ServiceId"), params.get("VpcEndpointId")
    if bool(service_id) == bool(endpoint_id):
        raise ec2.InvalidParameter("Specify exactly one of ServiceId and VpcEndpointId.")
    if service_id:
        require_service(context, service_id)
    else:
        require(context, VpcEndpoint, endpoint_id)
    token = params.get("ClientToken")
    events = _check(params["ConnectionNotificationArn"], params["ConnectionEvents"])
    notification = ConnectionNotification(
        id=ids.new_id("vpce-nfn"), account=context.account, region=context.region,
        arn=params["ConnectionNotificationArn"], events=events, service_id=service_id,
        vpc_endpoint_id=endpoint_id)
    with context.store.transaction() as tx:
        tx.put(notification)
    result: dict = {"ConnectionNotification": describe_notification(notification)}
    if token:
        result["ClientToken"] = token
    return result


@operation("ec2", "DescribeVpcEndpointConnectionNotifications")
def describe_notifications(context: RequestContext, params: dict) -> dict:
    notifications = owned(context, ConnectionNotification)
    if params.get("ConnectionNotificationId"):
        notifications = [require(context, ConnectionNotification, params["ConnectionNotificationId"])]
    notifications = filters.apply(notifications, params.get("Filters"), NOTIFICATION_FILTERS)
    chunk, more = pages.page(notifications, params)
    return {"ConnectionNotificationSet": [describe_notification(n) for n in chunk], **more}


@operation("ec2", "ModifyVpcEndpointConnectionNotification")
def modify_notification(context: RequestContext, params: dict) -> dict:
    notification = require(context, ConnectionNotification, params["ConnectionNotificationId"])
    arn = params.get("ConnectionNotificationArn", notification.arn)
    events = _check(arn, params.get("ConnectionEvents") or notification.events)
    with context.store.transaction() as tx:
        mine = tx.edit(ConnectionNotification, notification.id)
        mine.arn, mine.events = arn, events
    return {"ReturnValue": True}


@operation("ec2", "DeleteVpcEndpointConnectionNotifications")
def delete_notifications(context: RequestContext, params: dict) -> dict:
    unsuccessful = Unsuccessful()
    with context.store.transaction() as tx:
        for notification_id in dict.fromkeys(params["ConnectionNotificationIds"]):
            with unsuccessful.of(notification_id):
                tx.delete(require(context, ConnectionNotification, notification_id))
    return {"Unsuccessful": unsuccessful}
