"""The reconciler: level-triggered, it compares what the store wants with what is, and
converges. A change in the store only means "look again".

- ``Lifecycle`` (lifecycle.py): the state machines of resources whose next state depends on
  something being true (an NLB's nodes exist, an endpoint's network is ready, a TXT record
  is published), not on a timer.
- ``verify_private_dns`` (verification.py): the DNS query behind private DNS name
  verification.
"""
