"""Faults on demand: ``pocketlink fault ...``, pocketlink's own, or AWS FIS's experiments
(``api/fis.py``).

- ``cli`` (cli.py): ``pocketlink fault ...``, through the daemon's control socket.
- ``requests`` (requests.py): a fault asked for, checked against the store and stored
  (``model.faults.Fault``), or cleared; the daemon answers them on its control socket.
- ``plan`` (plan.py): the kernel state the stored faults want, as plain data.
- ``FaultInjector`` (kernel.py): keeps the kernel at that plan (nftables tables of their
  own, netem qdiscs, SIGSTOP), re-applying it after a restart.
- ``fis_catalog`` (fis_catalog.py): the FIS actions and target resource types pocketlink
  performs, and FIS's durations and selection modes.
- ``ExperimentRunner`` (experiments.py): moves FIS experiments through their states,
  injecting their faults (``disrupt-subnet``) or acting through EC2's handlers, and
  undoing it all when an action ends or the experiment is stopped.

A lost zone also leaves the names AWS publishes (dns/aws_names.py reads
``model.faults.lost_subnets``), as Route 53's failover drops unhealthy nodes.
"""
