"""Metrics: what the data plane really carried, as CloudWatch's metrics, a Prometheus page
and a bill.

Nouns, one job each:

- ``MetricStore`` (store.py): the data points in their own SQLite file (``metrics.db``
  beside the state), statistic sets per metric and period, rolled up as CloudWatch keeps
  them (seconds for 3 hours, minutes for 15 days, hours for 455 days).
- ``figures`` (figures.py): one second of the data plane's counters and the store's
  resources in AWS's words: AWS/NetworkELB, AWS/PrivateLinkEndpoints,
  AWS/PrivateLinkServices and AWS/NATGateway, their names and dimensions, in the account
  that owns each resource. No I/O.
- ``Sampler`` (sampler.py): once a second, takes the hyperplane's counters
  (dataplane.hyperplane.Counters) and writes that second's points; keeps the totals the
  Prometheus page and the console's topology show, of the resources still there.
- ``nat`` (nat.py): the seam NAT gateways plug their counts into (``NatGatewayReader``).
- ``prometheus`` (prometheus.py): the Prometheus page (prometheus-client's text format).
- ``cost`` (cost.py): ``pocketlink cost``'s bill at AWS's us-east-1 list prices
  (prices.json: each price with its source page and the day it was read).

CloudWatch's API over the store is api/cloudwatch.py. See docs/metrics.md.
"""
