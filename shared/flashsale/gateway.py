"""A simulated payment gateway: slow (3 s by default), a limited number of concurrent payments,
injectable declines and transient errors, idempotent on order_id like a real idempotency key:
an order has one charge id, which the ledger records only once, so two processes paying the same
order at the same instant charge it once (the second replays the first's result).

Like a payment sandbox's test cards, `decline_customer_ids` names customers whose charges are
always declined, so a test can decline one chosen order while the decline rate stays 0."""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from decimal import Decimal

from flashsale.domain.model import Charge, ChargeStatus, utc_now
from flashsale.ports import GatewayError, LedgerEntry, PaymentLedger

#: uuid5 namespace of charge ids (any fixed UUID; changing it changes every future charge id)
_CHARGE_NAMESPACE = uuid.UUID("5f1b9e0c-7d3a-4c1e-9b6f-2a8d4e6c0f13")


class SimulatedPaymentGateway:
    def __init__(
        self,
        ledger: PaymentLedger,
        latency: float = 3.0,
        concurrency: int = 1,
        decline_rate: float = 0.0,
        error_rate: float = 0.0,
        decline_customer_ids: Collection[int] = (),
        rng: random.Random | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        if concurrency < 1:
            raise ValueError("concurrency must be >= 1")
        self.ledger = ledger
        self.latency = latency
        self.concurrency = concurrency
        self.decline_rate = decline_rate
        self.error_rate = error_rate
        self.decline_customer_ids = frozenset(decline_customer_ids)
        self._rng = rng or random.Random()
        self._rng_lock = threading.Lock()
        self._sleep = sleep
        self._slots = threading.BoundedSemaphore(concurrency)
        self._order_locks: dict[str, _LockSlot] = {}
        self._order_locks_guard = threading.Lock()

    def charge(self, order_id: str, amount: Decimal, customer_id: int) -> Charge:
        # Charges of one order are serialised inside this process. Across processes the
        # charge id is the order's idempotency key (one id per order), and the ledger writes it
        # only if absent: of two simultaneous charges one is recorded, the other replays it.
        with self._order_lock(order_id):
            previous = self._first_charge(order_id)
            if previous is not None:
                return _replay(previous)
            with self._slots:
                self._sleep(self.latency)
                with self._rng_lock:
                    error_draw, decline_draw = self._rng.random(), self._rng.random()
                if error_draw < self.error_rate:
                    raise GatewayError(f"simulated gateway error for order {order_id}")
                declined = (
                    customer_id in self.decline_customer_ids or decline_draw < self.decline_rate
                )
                status = ChargeStatus.DECLINED if declined else ChargeStatus.APPROVED
                entry = LedgerEntry(
                    order_id=order_id,
                    charge_id=charge_id(order_id),
                    status=str(status),
                    amount=amount,
                    customer_id=customer_id,
                    created_at=utc_now(),
                )
                try:
                    self.ledger.record(entry)
                except Exception as exc:
                    winner = self._first_charge(order_id)
                    if winner is not None:  # another process charged this order meanwhile
                        return _replay(winner)
                    raise GatewayError(f"ledger unavailable: {exc}") from exc
            return Charge(status, entry.charge_id)

    def _first_charge(self, order_id: str) -> LedgerEntry | None:
        try:
            return self.ledger.first_charge(order_id)
        except Exception as exc:
            raise GatewayError(f"ledger unavailable: {exc}") from exc

    @contextmanager
    def _order_lock(self, order_id: str) -> Iterator[None]:
        """A per-order lock, dropped from the table once nobody holds or waits for it."""
        with self._order_locks_guard:
            slot = self._order_locks.setdefault(order_id, _LockSlot())
            slot.users += 1
        try:
            with slot.lock:
                yield
        finally:
            with self._order_locks_guard:
                slot.users -= 1
                if slot.users == 0:
                    self._order_locks.pop(order_id, None)


def charge_id(order_id: str) -> str:
    """The one charge id an order can have: its idempotency key at the gateway."""
    return f"pay_{uuid.uuid5(_CHARGE_NAMESPACE, order_id).hex}"


def _replay(entry: LedgerEntry) -> Charge:
    return Charge(ChargeStatus(entry.status), entry.charge_id, replayed=True)


class _LockSlot:
    __slots__ = ("lock", "users")

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.users = 0
