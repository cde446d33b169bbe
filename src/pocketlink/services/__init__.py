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
- ``ServiceFront`` (front.py): where interface endpoints to AWS services send their flows:
  a loopback port the daemon owns, served by its supervised child (started on the first
  connection, restarted when it dies); and ``network_path``, what the gateway makes of the
  PROXY header on the front's socket.
- front_main.py: that child: reads the hyperplane's PROXY v2 header, terminates TLS with a
  certificate per server name, and relays the connection to the gateway's front socket,
  header first.
- ``CheckIp`` (checkip.py): checkip.amazonaws.com in the internet namespace, answering the
  caller's public address.
- ``regional_host`` (endpoint_names.py): interface endpoints' own names
  (``vpce-...ssm.REGION.vpce.amazonaws.com``, S3's ``bucket.vpce-...``) as the regional
  names moto knows.
"""
