"""The seeds' walkthroughs (../shared/seeds), as code: each section's console steps as the
API calls they stand for. ``pocketlink demo`` narrates them; the tests assert on them.

- ``Seed000`` (seed000.py): NLB, endpoint service, interface endpoint, acceptance,
  dual-stack, private DNS name, proxy protocol v2.
- ``Seed002`` (seed002.py, seed002.yaml): the seed's CloudFormation template deployed with
  ``aws cloudformation deploy``, the private DNS name set by hand, a consumer account
  connecting and fetching ``https://`` through the TLS listener.
- ``Seed003`` (seed003.py): an instance in a private subnet copying from S3 through a NAT
  gateway, then through the S3 gateway endpoint; the NAT's CloudWatch bytes and the bill.
- ``Seed004`` (seed004.py): an application in an isolated subnet calling SSM, Secrets
  Manager and CloudWatch Logs through interface endpoints, then refused by an endpoint
  policy; its image pushed to ECR on the host and pulled inside the subnet.
- ``oci_layout``, ``push``, ``pull_command`` (images.py): a container image made from
  files, and ECR's push (skopeo, on the host) and pull (inside an instance) around it.
- ``private_dns`` (private_dns.py): the provider's private DNS name set and verified by
  its TXT record, as seed000 and seed002 do it by hand.
- ``httpd_user_data`` (httpd.py): the Apache httpd target the seeds' providers run.
- ``seed_client`` (clients.py): the boto3 client each seed acts for an account with.
"""
