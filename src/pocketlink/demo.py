"""``pocketlink demo``: seed 000 replayed against a running pocketlink, narrated.

Sections 1 to 3 of the walkthrough and its proxy protocol part: every API call as the
console steps stand for it, every ``curl`` the seed runs in the consumer's private
instance with its answer, and the target's httpd access log.
"""

from __future__ import annotations

from pocketlink.seeds.seed000 import PRIVATE_NAME, PROXY_PORT, Seed000


def _curl(seed: Seed000, *arguments: str) -> None:
    shown = " ".join(arguments)
    answer = seed.curl(*arguments)
    print(f"[ec2-user@{seed.ids['instance']} ~]$ curl {shown}")
    print((answer.stdout or answer.stderr).rstrip())


def run(endpoint: str) -> int:
    seed = Seed000(endpoint, say=lambda line: print(f"*** {line}", flush=True))
    seed.build_provider()
    seed.build_consumer()

    print("\n=== Section 1: PrivateLink")
    seed.section1_create_and_accept()
    _curl(seed, seed.ids["regional_name"])
    _curl(seed, seed.ids["zonal_name"])
    print("\n=== Section 2: dual-stack")
    _curl(seed, "-6", seed.ids["regional_name"])
    seed.section2_dual_stack()
    _curl(seed, "-6", seed.ids["regional_name"])
    print("\n=== Section 3: private DNS name")
    seed.section3_private_dns()
    for family in ("-4", "-6"):
        _curl(seed, family, PRIVATE_NAME)
    print("\n--- the target's httpd access log: the NLB's addresses")
    for line in seed.access_log("plain"):
        print(line)

    print("\n=== Proxy protocol v2 (the target behind port 8080 reads it)")
    for family, name in (("-4", seed.ids["regional_name"]), ("-6", seed.ids["regional_name"]),
                         ("-4", PRIVATE_NAME), ("-6", PRIVATE_NAME)):
        _curl(seed, family, f"http://{name}:{PROXY_PORT}/")
    print("\n--- its httpd access log: the consumer instance's own addresses "
          f"({seed.ids['instance_ipv4']}, {seed.ids['instance_ipv6']})")
    for line in seed.access_log("proxy"):
        print(line)
    return 0
