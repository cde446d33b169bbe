"""Each region's availability zones as AWS has them: the zone names and the zone ids behind them.

AWS's counts differ by region (us-east-1 six, us-west-2 and ap-northeast-2 four, us-west-1
two, most three) and its ids are not always contiguous (Tokyo has apne1-az1, -az2 and -az4;
Canada cac1-az1, -az2 and -az4). Each row is one account's ``describe-availability-zones``
as it was seen at AWS: moto's zone table (moto/ec2/models/availability_zones_and_regions.py,
gathered from contributors' real accounts), the AZ ids of AWS's own pages ("AWS Availability
Zones" and "AZ IDs" in the Regions and Availability Zones guide; Amazon EFS's One Zone table
lists use2-az1..3) and matsubo's gist 9308b3a91e75d1ce62fe6f0d047a3c7d for Tokyo.

The rows marked ``# guess`` are not from such an answer: their ids are AWS's regular
``<code>-az1..3``, and their names a, b, c in that order. A region not listed (any
well-formed region may be asked for) is given three such zones, a guess too.
"""

from __future__ import annotations

ZONES: dict[str, tuple[tuple[str, str], ...]] = {
    "us-east-1": (("a", "use1-az6"), ("b", "use1-az1"), ("c", "use1-az2"), ("d", "use1-az4"),
                  ("e", "use1-az3"), ("f", "use1-az5")),
    "us-east-2": (("a", "use2-az1"), ("b", "use2-az2"), ("c", "use2-az3")),
    # usw1-az2 is closed to accounts made since; which two letters an account sees varies
    "us-west-1": (("a", "usw1-az3"), ("b", "usw1-az1")),
    "us-west-2": (("a", "usw2-az2"), ("b", "usw2-az1"), ("c", "usw2-az3"), ("d", "usw2-az4")),
    "ca-central-1": (("a", "cac1-az1"), ("b", "cac1-az2"), ("d", "cac1-az4")),
    "eu-west-1": (("a", "euw1-az3"), ("b", "euw1-az1"), ("c", "euw1-az2")),
    "eu-west-2": (("a", "euw2-az2"), ("b", "euw2-az3"), ("c", "euw2-az1")),
    "eu-west-3": (("a", "euw3-az1"), ("b", "euw3-az2"), ("c", "euw3-az3")),
    "eu-central-1": (("a", "euc1-az1"), ("b", "euc1-az2"), ("c", "euc1-az3")),  # guess
    "eu-north-1": (("a", "eun1-az1"), ("b", "eun1-az2"), ("c", "eun1-az3")),  # guess
    # apne1-az3 (ap-northeast-1b) is closed to accounts made since
    "ap-northeast-1": (("a", "apne1-az4"), ("c", "apne1-az1"), ("d", "apne1-az2")),
    "ap-northeast-2": (("a", "apne2-az1"), ("b", "apne2-az2"), ("c", "apne2-az3"),
                       ("d", "apne2-az4")),
    "ap-northeast-3": (("a", "apne3-az1"), ("b", "apne3-az2"), ("c", "apne3-az3")),  # guess
    "ap-southeast-1": (("a", "apse1-az1"), ("b", "apse1-az2"), ("c", "apse1-az3")),  # guess
    "ap-southeast-2": (("a", "apse2-az1"), ("b", "apse2-az3"), ("c", "apse2-az2")),
    "ap-south-1": (("a", "aps1-az1"), ("b", "aps1-az3"), ("c", "aps1-az2")),
    "sa-east-1": (("a", "sae1-az1"), ("b", "sae1-az2"), ("c", "sae1-az3")),  # guess
}

# Where AWS maps zone names to ids independently for each account (made before November
# 2025): the regions introduced before November 2012 ("All Regions introduced after November
# 2012 use a uniform mapping", the "AZ IDs" page, which names us-east-1, us-west-1 and
# us-west-2 first); ap-southeast-2, launched that very November, is a guess.
INDEPENDENTLY_MAPPED = frozenset({
    "us-east-1", "us-west-1", "us-west-2", "eu-west-1", "ap-northeast-1", "ap-southeast-1",
    "ap-southeast-2", "sa-east-1",
})
