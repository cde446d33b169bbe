"""The AWS side: services pocketlink does not implement itself, behind its front door.

- ``Backend`` (backend.py): moto's server as the daemon's supervised child on loopback
  (started on first use, restarted when it dies: a ``ChildSupervisor``, supervisor.py),
  and the forwarding of a request to it with the caller's account.
- backend_main.py: that child process: moto's WSGI app, one request at a time.
- ``call_of`` (operations.py): the operation a backend request calls and the members that
  name its resources, from botocore's models (S3's routes matched by requestUri and method).
- ``Snapshots`` (snapshots.py): moto's state saved after every change and restored at
  start, one pickle per service and account, S3 object bodies in files of their own.
- ``CertificateAuthority`` (ca.py): pocketlink's own CA, name-constrained to AWS's domains,
  kept in the state dir; the TLS certificates of the service front, and the bundle
  instances trust.
- ``AcmAuthority`` (acm_authority.py): ACM's own CA hierarchy (a root excluded from AWS's
  domains, an issuing CA) in the state dir; it issues the certificates of tenants' proven
  names, their keys in 0600 files that TLS listeners load. Instances trust its root too.
- ``ServiceFront`` (front.py): where interface endpoints to AWS services (and gateway
  endpoints) send their flows:
  a loopback port the daemon owns, served by its supervised child (started on the first
  connection, restarted when it dies); and ``network_path``, what the gateway makes of the
  PROXY header on the front's socket.
- front_main.py: that child: reads the hyperplane's PROXY v2 header, terminates TLS with a
  certificate per server name, and relays the connection to the gateway's front socket,
  header first.
- ``Registry`` (ecr_registry.py): ECR's registry, Debian's docker-registry as the daemon's
  supervised child on a private unix socket, its data in the state dir.
- ``RegistryAccess`` (ecr_access.py): the registry's door (``ACCOUNT.dkr.ecr.REGION...``
  and ``localhost:4566/v2/``): tokens as Basic auth, repositories per account from the ECR
  API, layer downloads redirected to presigned URLs on AWS's S3 layer bucket and served
  from the registry's storage; and GetAuthorizationToken's answer.
- ``AuthorizationTokens`` (ecr_tokens.py): ECR's 12-hour tokens, HMAC-signed with a key in
  the state dir.
- ``CheckIp`` (checkip.py): checkip.amazonaws.com in the internet namespace, answering the
  caller's public address.
- ``regional_host`` (endpoint_names.py): interface endpoints' own names
  (``vpce-...ssm.REGION.vpce.amazonaws.com``, S3's ``bucket.vpce-...``) as the regional
  names moto knows.
"""
