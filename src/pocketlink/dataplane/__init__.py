"""The data plane: the "hyperplane" that carries bytes from endpoint ENIs through NLB nodes to targets.

The daemon plans and binds; worker processes (one per core, each with its own event loop
and descriptor limit) carry the flows, off the loop that serves the API.

Nouns, one job each:

- ``plan`` (plan.py): which listeners exist and where their connections go, from the
  store, no I/O; an endpoint to an AWS service goes to the service front
  (services/front.py), a gateway endpoint's too, from a listener on the service's public
  address in the VPC router.
- ``spec`` (spec.py): what a worker is told of one listener (``ListenerSpec``,
  ``Backend``, ``TlsTermination``), apart from the planning so that a worker (and the DNS
  process) starts without the models, the topology or botocore.
- ``hyperplane`` (hyperplane.py): the daemon's side: binds each planned listener inside
  its namespace (one SO_REUSEPORT socket per worker, IP_FREEBIND: before its address is
  there), hands the sockets and plan updates to the workers, restarts a worker that dies,
  says when a listener is ready, and drains on stop. At a restart cli ``up`` starts one
  before the daemon's imports, with the listeners of the serving snapshot (snapshot.py),
  and the daemon's first pass takes it over.
- ``control`` (control.py): the channel between daemon and worker: JSON messages over a
  seqpacket socketpair, sockets passed as descriptors.
- ``worker`` (worker.py): a worker process: accepts, chooses the target by flow hash,
  starts the connect from the NLB node's address and hands the flow (with the PROXY v2
  header to send first) to the pump at once, times out connects, resets idle flows, tells
  the daemon each listener's ``Tally`` once a second, and drains within a grace period
  when told to stop.
- ``tls`` (tls.py): a TLS listener's connections, in the same workers: TLS terminated
  with the listener's certificates (SNI), its security policy and ALPN, then carried to the
  target as a TCP listener's are (or with TLS again to a TLS target group).
- ``relay`` (relay.py): two asyncio transports joined both ways with backpressure, for
  the flows whose bytes pass through user space (TLS here, the service front's TLS).
- ``pump`` (pump.py): a worker's flows on one edge-triggered epoll set: bytes both ways,
  copied while a flow is short and spliced (splice(2)) once it is bulk, half-close kept;
  each direction counts the bytes it moved (one addition a read), its listener's ``Tally``
  hears them at the worker's sweep and at the flow's end.
- ``sockets`` (sockets.py): sockets made inside other namespaces: by one thread per
  namespace for the daemon's probes, a batch at a time on the calling thread for a worker's
  flows and the daemon's listeners (or in the daemon's own, ``ROOT_NAMESPACE``: the way to
  the service front).
- ``priority`` (priority.py): the workers and the DNS process at a higher CPU priority
  than the API's loop and the instances; the workers in the batch class, so that waking
  does not preempt the client on its core and a flow's events come in batches.
- ``ppv2`` (ppv2.py): the PROXY protocol v2 header, sans-I/O.
- ``health`` (health.py): the target groups' health checks, run from the daemon, their
  findings written to the store for the plan and DescribeTargetHealth.
"""
