"""What a due state transition does to the store: a ``Change``, applied in the
reconciler's transaction once the kernel work it follows has held."""

from __future__ import annotations

from collections.abc import Callable

from pocketlink.store import Transaction

Change = Callable[[Transaction], None]


def set_fields(cls, resource_id: str, **fields) -> Change:
    """The resource's ``fields`` set, if it is still there when the change applies (a
    delete may have come between the pass that planned it and its transaction)."""
    def change(tx: Transaction) -> None:
        mine = tx.get(cls, resource_id)
        if mine is not None:
            for key, value in fields.items():
                setattr(mine, key, value)
    return change


def forget(cls, resource_id: str) -> Change:
    """The resource gone from the store, the last move of a deleted one once AWS would
    stop describing it (if nobody removed it first)."""
    def change(tx: Transaction) -> None:
        mine = tx.get(cls, resource_id)
        if mine is not None:
            tx.delete(mine)
    return change
