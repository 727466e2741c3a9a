"""A simulated payment gateway that behaves like a real payment API, double charges included.

Every call to `charge` is a new charge with its own id, recorded in the ledger with the order it
is for. The caller passes an idempotency key: a repeat with the same key within the retention
window is not charged again but answered with the first result (`Charge.replayed`). A retry with
another key (or none) really charges again, so the ledger can show a double charge and an audit
can catch it. The key and the charge are written in one conditional write: the write itself
answers "already charged?", no read comes before it.

Faults, for tests and chaos runs: slow (3 s by default) in a limited number of slots, declines,
transient errors (nothing charged: GatewayError) and lost answers (the charge is recorded but
the caller gets ChargeOutcomeUnknown, as after a timeout). A ledger write that fails is also an
unknown outcome: it may have been applied. Like a sandbox's test cards, `decline_customer_ids`
names customers whose charges are always declined.
"""

from __future__ import annotations

import queue
import random
import threading
import time
import uuid
from collections.abc import Callable, Collection
from decimal import Decimal

from flashsale.domain.model import Charge, ChargeStatus, utc_now
from flashsale.ports import ChargeOutcomeUnknown, GatewayError, LedgerEntry, PaymentLedger

#: How long a repeated idempotency key replays its first result (a day, like common gateways).
DEFAULT_KEY_RETENTION_SECONDS = 86_400
#: Prefix of every charge id (ledger items of another kind never start with it).
CHARGE_ID_PREFIX = "ch_"


class IdempotencyKeyReused(ValueError):
    """A key already used for another order: a caller bug, refused like a real gateway does."""


class SimulatedPaymentGateway:
    def __init__(
        self,
        ledger: PaymentLedger,
        latency: float = 3.0,
        concurrency: int = 1,
        decline_rate: float = 0.0,
        error_rate: float = 0.0,
        lost_answer_rate: float = 0.0,
        decline_customer_ids: Collection[int] = (),
        key_retention_seconds: float = DEFAULT_KEY_RETENTION_SECONDS,
        rng: random.Random | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ):
        if concurrency < 1:
            raise ValueError("concurrency must be >= 1")
        self.ledger = ledger
        self.latency = latency
        self.concurrency = concurrency
        self.decline_rate = decline_rate
        self.error_rate = error_rate
        self.lost_answer_rate = lost_answer_rate
        self.decline_customer_ids = frozenset(decline_customer_ids)
        self.key_retention_seconds = key_retention_seconds
        self._rng = rng or random.Random()
        self._rng_lock = threading.Lock()
        self._sleep = sleep
        self._clock = clock
        self._monotonic = monotonic
        #: one entry per slot: when it is free (on `monotonic`'s scale)
        self._slots: queue.SimpleQueue[float] = queue.SimpleQueue()
        for _ in range(concurrency):
            self._slots.put(float("-inf"))

    def charge(
        self, order_id: str, amount: Decimal, customer_id: int, idempotency_key: str | None = None
    ) -> Charge:
        self._occupy_slot()
        with self._rng_lock:
            error_draw, decline_draw = self._rng.random(), self._rng.random()
            lost_draw = self._rng.random() if self.lost_answer_rate else 1.0
        if error_draw < self.error_rate:
            raise GatewayError(f"simulated gateway error for order {order_id}")
        declined = customer_id in self.decline_customer_ids or decline_draw < self.decline_rate
        entry = LedgerEntry(
            order_id=order_id,
            charge_id=new_charge_id(),
            status=str(ChargeStatus.DECLINED if declined else ChargeStatus.APPROVED),
            amount=amount,
            customer_id=customer_id,
            created_at=utc_now(),
            idempotency_key=idempotency_key,
        )
        expires_at = self._clock() + self.key_retention_seconds if idempotency_key else None
        try:
            recorded = self.ledger.record(entry, expires_at)
        except Exception as exc:  # the write may have been applied: the caller must find out
            raise ChargeOutcomeUnknown(order_id, f"ledger write failed: {exc}") from exc
        if recorded.charge_id != entry.charge_id:
            return _replay(recorded, order_id)
        if lost_draw < self.lost_answer_rate:
            raise ChargeOutcomeUnknown(order_id, "simulated lost answer")
        return Charge(ChargeStatus(entry.status), entry.charge_id)

    def _occupy_slot(self) -> None:
        """Hold one of the slots for `latency`. A charge queued for a slot is served from the
        moment the slot frees, as by a remote gateway's own queue, not from the moment its
        thread wakes up to take it. That hand-over (a few ms per charge on a busy interpreter)
        is the caller's: counted as the gateway's, it capped a drain below concurrency /
        latency however well the consumer kept the slots busy."""
        arrived = self._monotonic()
        free_at = self._slots.get()
        done_at = max(arrived, free_at) + self.latency
        try:
            self._sleep(max(0.0, done_at - self._monotonic()))
        finally:
            self._slots.put(done_at)

    def lookup(self, order_id: str, idempotency_key: str) -> Charge | None:
        try:
            entry = self.ledger.by_key(idempotency_key, self._clock())
        except Exception as exc:
            raise GatewayError(f"charge lookup failed for order {order_id}: {exc}") from exc
        return None if entry is None else _replay(entry, order_id)


def new_charge_id() -> str:
    return f"{CHARGE_ID_PREFIX}{uuid.uuid4().hex}"


def _replay(entry: LedgerEntry, order_id: str) -> Charge:
    if entry.order_id != order_id:
        raise IdempotencyKeyReused(
            f"idempotency key {entry.idempotency_key!r} was used for order {entry.order_id}"
        )
    return Charge(ChargeStatus(entry.status), entry.charge_id, replayed=True)
