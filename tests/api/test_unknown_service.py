"""A signed request for a service pocketlink does not serve is refused with 400
UnknownService in that service's own protocol (botocore's model of it says which), so
that its SDK reads the code; with nothing to name a service, in EC2's XML."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tests.privatelink.conftest import new_account


@pytest.mark.parametrize(("service", "call"), [
    ("kinesis", lambda c: c.list_streams()),  # json
    ("batch", lambda c: c.describe_job_queues()),  # rest-json
    ("elasticbeanstalk", lambda c: c.describe_applications()),  # query
    ("cloudfront", lambda c: c.list_distributions()),  # rest-xml
])
def test_an_unserved_service_is_refused_in_its_own_protocol(daemon, service, call):
    client = daemon.client(service, new_account())
    with pytest.raises(ClientError) as caught:
        call(client)
    response = caught.value.response
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert response["Error"]["Code"] == "UnknownService", response
    assert f"the service '{service}'" in response["Error"]["Message"]
