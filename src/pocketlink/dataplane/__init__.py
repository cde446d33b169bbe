"""The data plane: the "hyperplane" that carries bytes from endpoint ENIs through NLB nodes to targets.

Nouns, one job each:

- ``ppv2`` (ppv2.py): the PROXY protocol v2 header, sans-I/O.

Listeners, target choice, the byte pump and health checks join this list as they are written.
"""
