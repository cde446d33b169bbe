"""The FIS actions and target resource types pocketlink performs, as FIS names them, and
FIS's small grammars: ISO 8601 durations (``PT5M``), selection modes (``COUNT(2)``).

Each action names the pocketlink work it maps to:

- ``aws:network:disrupt-connectivity`` (subnets; scope ``all``): a ``disrupt-subnet``
  fault per subnet, for the action's duration;
- ``aws:ec2:stop-instances``: EC2's StopInstances on the instances, and StartInstances
  after ``startInstancesAfterDuration`` when it is given;
- ``aws:ec2:terminate-instances``: EC2's TerminateInstances;
- ``aws:fis:wait``: nothing, for its duration.

Every other action FIS has (API error injection, EBS, ECS, EKS, RDS, SSM documents...)
is refused when a template names it, since nothing here could perform it.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from datetime import timedelta


@dataclass(frozen=True)
class FisAction:
    description: str
    target: tuple[str, str] | None  # (the action's target key, its resource type)
    parameters: dict[str, tuple[str, bool]] = field(default_factory=dict)  # -> (text, required)
    durations: tuple[str, ...] = ()  # its parameters that are durations


DURATION = ("The duration, from one minute to 12 hours. In the AWS FIS API, the value is a "
            "string in ISO 8601 format.", True)
SUBNETS = ("Subnets", "aws:ec2:subnet")
INSTANCES = ("Instances", "aws:ec2:instance")

ACTIONS: dict[str, FisAction] = {
    "aws:fis:wait": FisAction("Run the AWS FIS wait action.", None,
                              {"duration": DURATION}, ("duration",)),
    "aws:network:disrupt-connectivity": FisAction(
        "Deny network traffic to or from the target subnets.", SUBNETS,
        {"duration": DURATION,
         "scope": ("The type of traffic to deny: all (the only scope pocketlink "
                   "performs), the default.", False)}, ("duration",)),
    "aws:ec2:stop-instances": FisAction(
        "Stop the specified EC2 instances.", INSTANCES,
        {"startInstancesAfterDuration": ("The time to wait before starting the instances, "
                                         "in ISO 8601 format. Optional.", False),
         "completeIfInstancesTerminated": ("Whether the action completes if the instances "
                                           "are terminated (true or false).", False)},
        ("startInstancesAfterDuration",)),
    "aws:ec2:terminate-instances": FisAction("Terminate the specified EC2 instances.",
                                             INSTANCES),
}

RESOURCE_TYPES = {
    "aws:ec2:subnet": "Amazon EC2 subnets.",
    "aws:ec2:instance": "Amazon EC2 instances.",
}

MAX_DURATION = timedelta(hours=12)
_DURATION = re.compile(r"^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$")
_SELECTION = re.compile(r"^(ALL|COUNT\((\d+)\)|PERCENT\((\d+)\))$")


def duration(text: str) -> timedelta | None:
    """An ISO 8601 duration (``PT5M``, ``PT1H30M``, ``PT90S``), or None if it is not one."""
    found = _DURATION.match(text)
    if found is None or text in ("P", "PT") or text.endswith("T"):
        return None
    days, hours, minutes, seconds = (float(g) if g else 0.0 for g in found.groups())
    return timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)


def valid_selection(mode: str) -> bool:
    found = _SELECTION.match(mode)
    return found is not None and (found.group(3) is None or 1 <= int(found.group(3)) <= 100)


def select(resources: list[str], mode: str) -> list[str]:
    """The resources a selection mode keeps, at random for COUNT and PERCENT."""
    found = _SELECTION.match(mode)
    if found is None or found.group(1) == "ALL":
        return resources
    if found.group(2) is not None:
        wanted = int(found.group(2))
    else:  # PERCENT(n), rounded up: at least one when there is any (how FIS rounds is a guess)
        wanted = -(-len(resources) * int(found.group(3)) // 100)
    return sorted(random.sample(resources, min(wanted, len(resources))))
