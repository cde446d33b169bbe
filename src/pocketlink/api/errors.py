"""AWS's errors as classes, per service, as LocalStack generates its ``ServiceException`` classes:
``raise ec2.InvalidVpcIDNotFound(vpc_id)``, ``raise elbv2.LoadBalancerNotFoundException(message)``.

EC2's classes are named by their codes without the dots, and word their own messages from the
arguments (``wire.errors.EC2_ERRORS``: EC2's model has no error shapes). The other services'
are their models' error shapes, named as the model names them, taking the message.
"""

from __future__ import annotations

from types import SimpleNamespace

from pocketlink.wire import specs
from pocketlink.wire.errors import EC2_ERROR_CLASSES

ec2 = SimpleNamespace(**EC2_ERROR_CLASSES)
elbv2 = SimpleNamespace(**specs.load("elbv2").errors)
route53 = SimpleNamespace(**specs.load("route53").errors)
sts = SimpleNamespace(**specs.load("sts").errors)
autoscaling = SimpleNamespace(**specs.load("autoscaling").errors)
cloudwatch = SimpleNamespace(**specs.load("cloudwatch").errors)
acm = SimpleNamespace(**specs.load("acm").errors)
