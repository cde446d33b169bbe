"""An interface endpoint's own names become the regional names moto dispatches by."""

import pytest

from pocketlink.services.endpoint_names import regional_host


@pytest.mark.parametrize(("host", "regional"), [
    # DnsEntries of an SSM endpoint: the regional one and a zonal one
    ("vpce-0123abcd-x1y2z3.ssm.ap-northeast-1.vpce.amazonaws.com", "ssm.ap-northeast-1.amazonaws.com"),
    ("vpce-0123abcd-x1y2z3-ap-northeast-1a.ssm.ap-northeast-1.vpce.amazonaws.com",
     "ssm.ap-northeast-1.amazonaws.com"),
    # a service whose DNS form has two labels, with a port
    ("vpce-01-ab.api.ecr.us-west-2.vpce.amazonaws.com:443", "api.ecr.us-west-2.amazonaws.com:443"),
    # S3's endpoint-specific names: path style, and virtual-host style with the bucket kept
    ("bucket.vpce-1-2.s3.us-west-2.vpce.amazonaws.com", "s3.us-west-2.amazonaws.com"),
    ("photos.bucket.vpce-1-2.s3.us-west-2.vpce.amazonaws.com", "photos.s3.us-west-2.amazonaws.com"),
    # names that are already regional, or not an endpoint's, pass unchanged
    ("ssm.us-west-2.amazonaws.com", "ssm.us-west-2.amazonaws.com"),
    ("localhost:4566", "localhost:4566"),
])
def test_regional_host(host, regional):
    assert regional_host(host) == regional
