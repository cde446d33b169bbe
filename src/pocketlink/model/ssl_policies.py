"""ELBv2's security policies (ELBSecurityPolicy-*), as data: which TLS protocols and ciphers
a TLS listener offers (ssl_policies.json says where the table comes from); and its ALPN
policies.

DescribeSSLPolicies lists them; the data plane's workers set their TLS contexts from them
(dataplane/tls.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources

# ELBv2's ALPN policies as the ALPN protocol lists a server offers, in its preference.
ALPN_PROTOCOLS = {"HTTP1Only": ("http/1.1",), "HTTP2Only": ("h2",),
                  "HTTP2Optional": ("http/1.1", "h2"), "HTTP2Preferred": ("h2", "http/1.1"),
                  "None": ()}


@dataclass(frozen=True)
class SslPolicy:
    name: str
    protocols: tuple[str, ...]  # "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"
    ciphers: tuple[str, ...]  # OpenSSL names (TLS 1.3's as TLS_*), highest priority first


@cache
def policies() -> dict[str, SslPolicy]:
    table = json.loads(resources.files("pocketlink.model").joinpath("ssl_policies.json")
                       .read_text())
    return {p["name"]: SslPolicy(p["name"], tuple(p["protocols"]), tuple(p["ciphers"]))
            for p in table["policies"]}
