"""ACM's validation: a DNS-validated certificate is issued once every one of its names'
CNAME records really resolves, on the public DNS, to the value ACM gave (a real query, as
private DNS name verification makes: verification.py); one not proven in 72 hours turns
``VALIDATION_TIMED_OUT``. Issuing makes the X.509 certificate and its key files
(services/acm_authority.py) before the store says ISSUED, so a listener never names a
certificate whose files are not there. The files of deleted certificates are removed.

The queries run beside the passes, not in them: a round (the DNS process brought up to
date, then every waiting certificate's names asked at once) is started by a pass and
nudges the next when it ends, which writes what it proved. A pass that waited for it held
up every other transition behind as many queries as there were certificates pending, for
seconds on a loaded machine (an endpoint's ``deleting`` -> ``deleted`` among them).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import dns.rdatatype

from pocketlink.model.acm import Certificate, CertificateStatus, DomainValidation, timed_out
from pocketlink.model.base import now
from pocketlink.model.states import may_become
from pocketlink.reconcile.verification import public_answer
from pocketlink.services.acm_authority import AcmAuthority, Issued
from pocketlink.store import Store, Transaction

log = logging.getLogger("pocketlink.acm")

# The public DNS is asked again this often even with no change (a DNS process that was
# restarting when it was last asked answers now).
RECHECK = 30.0


@dataclass
class Move:
    what: str
    apply: Callable[[Transaction], None]


async def resolves(validation: DomainValidation, host: str, port: int) -> bool:
    """Whether ``validation``'s record name answers a CNAME to its value."""
    assert validation.record_name is not None and validation.record_value is not None
    answer = await public_answer(validation.record_name, dns.rdatatype.CNAME, host, port)
    wanted = validation.record_value.lower().rstrip(".")
    return any(rdata.target.to_text().lower().rstrip(".") == wanted
               for rrset in answer for rdata in rrset)


def _issued(certificate_id: str, issued: Issued) -> Callable[[Transaction], None]:
    def change(tx: Transaction) -> None:
        mine = tx.get(Certificate, certificate_id)
        if mine is None:  # deleted meanwhile: the next sweep removes its files
            return
        if not may_become(mine.status, CertificateStatus.ISSUED):  # timed out meanwhile
            return
        mine.status = CertificateStatus.ISSUED
        for validation in mine.validations:
            validation.status = "SUCCESS"
        mine.serial, mine.subject, mine.issuer = issued.serial, issued.subject, issued.issuer
        mine.not_before, mine.not_after = issued.not_before, issued.not_after
        mine.certificate_pem, mine.chain_pem = issued.certificate_pem, issued.chain_pem
        mine.issued_at = now()
    return change


def _timed_out(certificate_id: str) -> Callable[[Transaction], None]:
    def change(tx: Transaction) -> None:
        mine = tx.get(Certificate, certificate_id)
        if mine is not None and may_become(mine.status, CertificateStatus.VALIDATION_TIMED_OUT):
            mine.status = CertificateStatus.VALIDATION_TIMED_OUT
            for validation in mine.validations:
                validation.status = "FAILED"
    return change


class CertificateValidation:
    """The reconciler's side of ACM, run on every pass. The public DNS is asked again when
    the store changed since it was last asked (a record appears only by a change), or
    RECHECK seconds passed, after the DNS process answers from the store as it is
    (``settle``)."""

    def __init__(self, store: Store, authority: AcmAuthority, public_dns: tuple[str, int],
                 settle: Callable[[], Awaitable[None]],
                 nudge: Callable[[], None] = lambda: None) -> None:
        self.store, self.authority, self.public_dns = store, authority, public_dns
        self.settle = settle
        self.nudge = nudge  # a round ended: the next pass writes what it proved
        self._asked_at = -1  # the store's change count when the DNS was last asked
        self._asked_when = 0.0  # and the loop's time then
        self._round: asyncio.Task[dict[str, Issued]] | None = None

    async def moves(self) -> list[Move]:
        store = self.store
        moment = now()
        proven = self._ended()
        if self._round is None:  # none is writing a certificate's files now
            self.authority.forget_all_but({c.id for c in store.all(Certificate)
                                           if c.status == CertificateStatus.ISSUED} | set(proven))
        moves = [Move(f"{i} ISSUED", _issued(i, issued)) for i, issued in proven.items()]
        waiting = []
        for certificate in store.all(Certificate):
            # One the last round issued is still PENDING_VALIDATION here (its move is in
            # ``moves``): asked again, it would be issued again, its files a new leaf the
            # store's serial does not name.
            if certificate.status != CertificateStatus.PENDING_VALIDATION or \
                    certificate.id in proven:
                continue
            if timed_out(certificate, moment):
                moves.append(Move(f"{certificate.id} VALIDATION_TIMED_OUT",
                                  _timed_out(certificate.id)))
            elif certificate.validation_method == "DNS":
                waiting.append(certificate)
        clock = asyncio.get_running_loop().time()
        if not waiting or self._round is not None or (store.changes == self._asked_at and
                                                      clock - self._asked_when < RECHECK):
            return moves
        self._asked_at, self._asked_when = store.changes, clock
        self._round = asyncio.ensure_future(self._ask(waiting))
        self._round.add_done_callback(lambda _: self.nudge())
        return moves

    def _ended(self) -> dict[str, Issued]:
        """The certificates the last round proved and issued, once it has ended."""
        done = self._round
        if done is None or not done.done():
            return {}
        self._round = None
        if done.cancelled():
            return {}
        if done.exception() is not None:
            log.error("ACM's DNS validation failed; it is tried again",
                      exc_info=done.exception())
            return {}
        return done.result()

    async def _ask(self, waiting: list[Certificate]) -> dict[str, Issued]:
        await self.settle()
        proven = await asyncio.gather(*(asyncio.gather(*(
            resolves(v, *self.public_dns) for v in certificate.validations))
            for certificate in waiting))
        issued = {}
        for certificate, answers in zip(waiting, proven, strict=True):
            if all(answers):
                issued[certificate.id] = await asyncio.to_thread(
                    self.authority.issue, certificate.id,
                    certificate.subject_alternative_names, certificate.key_algorithm)
        return issued

    def close(self) -> None:
        if self._round is not None:
            self._round.cancel()
