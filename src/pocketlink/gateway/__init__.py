"""The front door: HTTP in, AWS responses out.

- ``Gateway`` (dispatch.py): one request -> refuse foreign web pages, throttle, route,
  identify, check the region and (strict) the signature, parse, call the handler,
  serialize; every failure becomes an AWS error, never a traceback. A request for a
  service of the backend (services/) is forwarded there instead, with its account; a
  request for ECR's registry or its S3 layers goes to the registry's door
  (services/ecr_access.py).
  Beside the API: ``/_pocketlink/health``, the Prometheus page when ``pocketlink up
  --prometheus`` asked for it (the control socket always serves it, and the bill), and
  the web console (``pocketlink.console``, a client of the API), on the daemon's port only.
- ``Credentials`` (identity.py): which account an access key acts for, and its secret
  (instances' temporary role keys included, with their session token).
- ``RateLimiter`` (limits.py): a token bucket per client (access key, else address); a
  throttled client's connection is held off (not read) for a second. The DNS servers
  use the same bucket for UDP queries per address. ``ConnectionCap`` (limits.py): the API's
  open connections, all clients together, below the daemon's descriptor limit, so that the
  rest of the daemon keeps descriptors whatever a client opens.
- ``EndpointPolicies`` (endpoint_policy.py): the PolicyDocument of the endpoint a request
  came through, evaluated before its service sees it; a denial in the service's own error.
- ``BucketPolicies`` (bucket_policy.py): an S3 bucket's policy (read from the backend,
  kept until it changes), its Deny enforced on every S3 request with the path's keys.
- ``FairFront`` (fair.py): the gateway behind one queue per account, served in turns, so
  that one account's flood does not starve another's calls.
- ``ApiThread`` and ``DaemonLoopFront`` (api_thread.py): the API's two servers (the
  host's port, the service front's socket) on an event loop in a thread of their own; each
  request, parsed there (``Gateway.parse_ahead``), is handed to the daemon's loop, where
  the store lives, for its turn and its handler.
- ``HttpServer`` (http.py): the asyncio HTTP/1.1 server (httptools) around a front, with
  its limits (head and body sizes, timeouts, hold-offs, the cap on connections) and its
  connections, closed on shutdown. On the service front's socket (``paths``), each connection first states the
  network path of its requests, in the hyperplane's PROXY v2 header.
- ``Control`` and ``RuntimeRecord`` (control.py): the daemon's status and shutdown on a
  0600 unix socket, and the record that says which daemon serves which state.
- ``NetworkPath`` (paths.py): how a request came (endpoint, interface or gateway, VPC,
  caller address), known only for requests through the service front.
"""
