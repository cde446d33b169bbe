"""VPC Flow Logs: the records of what really flowed through each ENI, delivered as AWS
delivers them (api/ec2_flow_logs.py stores the flow logs).

Nouns, one job each:

- ``fields`` (fields.py): AWS's record format: its fields and their versions, a format's
  validation, a record as a line.
- ``capture`` (capture.py): what the kernel counted in one namespace: conntrack's table
  (flows a security group accepted, both ways) and pocketlink's nftables sets of flows a
  security group dropped; their growth since the last look.
- ``collector`` (collector.py): the daemon's loop: which namespaces hold the covered ENIs,
  records per ENI and direction, sums over each flow log's aggregation interval.
- ``delivery`` (delivery.py): CloudWatch Logs (a stream per ENI) or S3 (AWS's keys,
  gzip), both the backend's; a refusal is the flow log's ``Access error``.

See docs/flow-logs.md.
"""
