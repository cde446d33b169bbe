"""Why X cannot reach Y: ``pocketlink diagnose --from INSTANCE --to NAME[:PORT]``, and the
same walk behind EC2's Reachability Analyzer API (api/ec2_network_insights.py).

- ``resolve`` (names.py): the name as the instance's own VPC resolver answers it (the same
  zones the resolver serves, ``dns.vpc.vpc_zones``), which record answered and what owns
  the address; or, when nothing answers, why (private DNS off, the name not verified, the
  VPC's DNS attributes off).
- ``allows`` (groups.py): whether an ENI's security groups let one TCP flow out or in,
  and the rule that did.
- ``diagnose`` (walk.py): every hop from the instance to the target, each a ``Hop`` with
  its verdict (``ok``, ``FAIL``, ``note``) and, for a failure, the AWS CLI command that
  fixes it and the account that must run it. Pure functions over the store: the daemon
  answers them on its control socket.
- ``routes`` (routes.py): the route table and route a packet takes beyond the local one
  (gateways, NAT, peering, prefix lists); ``injected`` (injected.py): the faults
  (``pocketlink fault``) a hop meets.
- ``listening`` (listening.py): whether a process listens on a target's port, read in the
  target's namespace; the daemon adds it to the walk (its control door only).
- ``probe`` (probe.py): the proof: a TCP connect from inside the instance's namespace to
  the resolved address, run by the CLI (it needs root), so the verdict meets the world.
- ``report`` (report.py): the verdict and the probe laid out as ``pocketlink diagnose``
  prints them, one line per hop.
"""

from pocketlink.diagnose.walk import Diagnosis, Hop, diagnose

__all__ = ["Diagnosis", "Hop", "diagnose"]
