"""The instance metadata service (IMDS): what an instance learns about itself at
http://169.254.169.254/ and http://[fd00:ec2::254]/, and the credentials of its instance
profile's role.

Nouns, one job each:

- ``MetadataService`` (server.py): HTTP inside every VPC router's namespace, the caller
  known by its source address; IMDSv1 and IMDSv2, the instance's metadata options, and
  limits per source.
- ``tree`` (tree.py): the instance's metadata as AWS lays it out (meta-data, dynamic,
  user-data), in AWS's formats.
- ``Tokens`` (tokens.py): IMDSv2's session tokens, signed, with their TTL.
- ``roles`` (roles.py): instance profiles as IAM (the backend) has them, and the
  temporary credentials (``RoleSession``) an instance gets for its role, which act for
  its account in every service (``gateway.identity``).
"""
