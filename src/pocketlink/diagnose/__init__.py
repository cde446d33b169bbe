"""Why X cannot reach Y: ``pocketlink diagnose --from INSTANCE --to NAME[:PORT]``.

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
- ``probe`` (probe.py): the proof: a TCP connect from inside the instance's namespace to
  the resolved address, run by the CLI (it needs root), so the verdict meets the world.
"""

from pocketlink.diagnose.walk import Diagnosis, Hop, diagnose

__all__ = ["Diagnosis", "Hop", "diagnose"]
