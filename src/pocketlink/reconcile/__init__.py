"""The reconciler: level-triggered, it compares what the store wants with what the kernel
holds, and converges. The store is the desired state, the kernel the actual state; a
change in the store only means "look again". A full pass runs at start and on a slow timer.

Nouns, one job each:

- ``Lifecycle`` (lifecycle.py): the passes. Each hands the VPCs whose stored inputs changed
  to the network reconciler, brings the resolvers and the data plane's listeners in line,
  and writes the state transitions that are due (``due_transitions``, pure): an endpoint
  turns available when its listeners are bound (with IP_FREEBIND, beside the network run)
  and the network run has put their addresses in place, ``failed`` with a ``LastError`` when
  its VPC's network cannot be built (and back once it can); an instance stays pending with a
  ``StateReason``; a NAT gateway turns available once its namespace forwards. The internet
  namespace is converged first, while a gateway leads there. At start the listeners and
  resolvers come back before the network is looked at again, so that traffic resumes at
  once.
- ``NetworkReconciler`` (network.py): one worker per VPC (its router and its instances),
  so that one broken or slow VPC holds up no other; each run observes the kernel, plans
  with the pure ``network.changes.diff_*`` and applies (``network.kernel``; a router that
  links to no other namespace first applies what is due from what its last run left, and
  reads the kernel after); a run with a failed action records nothing as applied and is
  retried after a back-off; each key looks again at everything on its own timer (about a
  minute, spread), not all at one moment.
- ``Change``, ``set_fields`` (changes.py): what a due transition does to the store.
- ``Resolvers`` (resolvers.py): the AmazonProvidedDNS of each VPC: its sockets, bound
  inside the VPC's router, served by the DNS process (dns/process.py); beside it, each
  VPC's instance metadata service (``pocketlink.imds``), served by the daemon.
- ``Scaler`` (autoscaling.py): the Auto Scaling groups, converged in each pass: a pure
  ``plan`` per group (launches by zone, registrations, replacements of instances EC2 or the
  target groups find unhealthy or past their lifetime, scale-in, draining before
  termination), done through the API's own handlers as the group's account.
- ``peering_transitions`` (peering.py): the moves of VPC peering connections that are
  nobody's call (checked, active once the link between the routers is up, expired,
  forgotten).
- ``GatewayRouters`` and ``transit_gateway_transitions`` (transit_gateways.py): each transit
  gateway's router handed to the network reconciler as a key of its own, and the moves of
  gateways, attachments and their route tables.
- ``vpn_transitions`` (vpn.py): the moves of virtual private gateways' attachments, VPN
  connections and their static routes, and the propagated routes that follow them.
- ``verify_private_dns`` (verification.py): the DNS query behind private DNS name
  verification; ``public_answer``, the public DNS query it and ACM's validation share.
- ``CertificateValidation`` (certificates.py): ACM's DNS validation, a real CNAME query on
  the public DNS, and the issue of a proven certificate (services/acm_authority.py), asked
  in rounds beside the passes (a pass starts one, the next writes what it proved), so that
  pending certificates never hold up the other transitions.

A pass that takes over ``SLOW_PASS`` seconds is logged with the time each stage took.
"""
