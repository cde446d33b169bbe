"""A TLS listener's certificates and security policy: the checks CreateListener and
ModifyListener make, the SNI certificates (Add/Remove/DescribeListenerCertificates) and
the security policies (DescribeSSLPolicies, from model/ssl_policies.json).

A listener's ``certificates`` list holds its default certificate first, then the ones
added for SNI. A certificate must be an ISSUED ACM certificate of the caller's, in the
listener's region. Messages AWS does not document are marked as pocketlink's guesses.
"""

from __future__ import annotations

from pocketlink.api.context import RequestContext
from pocketlink.api.elbv2_common import page
from pocketlink.api.errors import elbv2
from pocketlink.api.handlers import operation
from pocketlink.api.lookups import require
from pocketlink.model.acm import Certificate, CertificateStatus
from pocketlink.model.elbv2 import Listener
from pocketlink.model.ssl_policies import ALPN_PROTOCOLS, policies

DEFAULT_POLICY = "ELBSecurityPolicy-2016-08"  # the API's (the console's is a TLS 1.3 one)
MAX_CERTIFICATES = 25  # per listener, the default certificate included (ELB's quota)
TLS_SETTINGS = ("Certificates", "SslPolicy", "AlpnPolicy")


def require_issued(context: RequestContext, arn: str) -> Certificate:
    """The caller's ISSUED ACM certificate ``arn``. ELB's answer to one still pending is
    not documented: pocketlink answers CertificateNotFound, as for one that is not there."""
    found = context.store.get(Certificate, arn)
    if found is None or found.account != context.account or found.region != context.region \
            or found.status != CertificateStatus.ISSUED:
        raise elbv2.CertificateNotFoundException(f"Certificate '{arn}' not found")
    return found


def check_tls(context: RequestContext, protocol: str, params: dict,
              listener: Listener | None) -> None:
    if protocol != "TLS":
        given = [key for key in TLS_SETTINGS if params.get(key)]
        if given:  # pocketlink's words
            raise elbv2.InvalidConfigurationRequestException(
                f"{given[0]} can only be set on TLS listeners")
        return
    given = [c["CertificateArn"] for c in params.get("Certificates") or []
             if c.get("CertificateArn")]
    if len(given) > 1:
        raise elbv2.TooManyCertificatesException(
            "A listener takes exactly one default certificate; add others with "
            "AddListenerCertificates")  # pocketlink's words
    if not given and not (listener and listener.certificates):
        raise elbv2.CertificateNotFoundException(
            "A certificate must be specified for TLS listeners")
    for arn in given:
        require_issued(context, arn)
    policy = params.get("SslPolicy")
    if policy and policy not in policies():
        raise elbv2.SSLPolicyNotFoundException(f"SSL policy '{policy}' not found")
    alpn = params.get("AlpnPolicy") or []
    if len(alpn) > 1 or any(a not in ALPN_PROTOCOLS for a in alpn):
        raise elbv2.ALPNPolicyNotSupportedException(
            f"ALPN policy '{', '.join(alpn)}' not found")


def tls_settings(protocol: str, params: dict, listener: Listener | None) -> dict:
    """The listener's certificates, policy and ALPN after a Create or Modify call that
    ``check_tls`` let through; a listener no longer TLS drops them."""
    if protocol != "TLS":
        return {"certificates": [], "ssl_policy": None, "alpn_policy": []}
    given = [c["CertificateArn"] for c in params.get("Certificates") or []
             if c.get("CertificateArn")]
    current = listener.certificates if listener else []
    return {"certificates": given + current[1:] if given else list(current),
            "ssl_policy": params.get("SslPolicy") or (listener and listener.ssl_policy)
            or DEFAULT_POLICY,
            "alpn_policy": params.get("AlpnPolicy") or (listener.alpn_policy if listener
                                                        else [])}


def _tls_listener(context: RequestContext, arn: str) -> Listener:
    listener = require(context, Listener, arn)
    if listener.protocol != "TLS":
        raise elbv2.InvalidConfigurationRequestException(
            f"Listener '{arn}' is not a TLS listener")  # pocketlink's words
    return listener


@operation("elbv2", "AddListenerCertificates")
def add_listener_certificates(context: RequestContext, params: dict) -> dict:
    listener = _tls_listener(context, params["ListenerArn"])
    added = [c["CertificateArn"] for c in params["Certificates"] if c.get("CertificateArn")]
    for arn in added:
        require_issued(context, arn)
    new = [a for a in dict.fromkeys(added) if a not in listener.certificates]
    if len(listener.certificates) + len(new) > MAX_CERTIFICATES:
        raise elbv2.TooManyCertificatesException(
            "You've reached the limit on the number of certificates per load balancer")
    with context.store.transaction() as tx:
        tx.edit(Listener, listener.id).certificates.extend(new)
    return {"Certificates": [{"CertificateArn": a, "IsDefault": False}
                             for a in dict.fromkeys(added)]}


@operation("elbv2", "RemoveListenerCertificates")
def remove_listener_certificates(context: RequestContext, params: dict) -> dict:
    listener = _tls_listener(context, params["ListenerArn"])
    removed = {c["CertificateArn"] for c in params["Certificates"] if c.get("CertificateArn")}
    if listener.certificates and listener.certificates[0] in removed:
        raise elbv2.OperationNotPermittedException(
            "The default certificate cannot be removed; replace it with ModifyListener")
    with context.store.transaction() as tx:
        mine = tx.edit(Listener, listener.id)
        mine.certificates = [a for a in mine.certificates if a not in removed]
    return {}


@operation("elbv2", "DescribeListenerCertificates")
def describe_listener_certificates(context: RequestContext, params: dict) -> dict:
    listener = require(context, Listener, params["ListenerArn"])
    items = [{"CertificateArn": a, "IsDefault": i == 0}
             for i, a in enumerate(listener.certificates)]
    chunk, more = page(items, params)
    return {"Certificates": chunk, **more}


@operation("elbv2", "DescribeSSLPolicies")
def describe_ssl_policies(context: RequestContext, params: dict) -> dict:
    table = policies()
    names = params.get("Names") or list(table)
    missing = [n for n in names if n not in table]
    if missing:
        raise elbv2.SSLPolicyNotFoundException(f"SSL policy '{missing[0]}' not found")
    kind = params.get("LoadBalancerType")
    found = [] if kind == "gateway" else [table[n] for n in dict.fromkeys(names)]
    chunk, more = page(found, params)
    return {"SslPolicies": [{
        "Name": p.name, "SslProtocols": list(p.protocols),
        "Ciphers": [{"Name": c, "Priority": i + 1} for i, c in enumerate(p.ciphers)],
        "SupportedLoadBalancerTypes": ["application", "network"]} for p in chunk], **more}
