import random
import threading
from decimal import Decimal

import pytest

from flashsale.adapters.simulated_gateway import IdempotencyKeyReused, SimulatedPaymentGateway
from flashsale.domain.model import ChargeStatus
from flashsale.ports import ChargeOutcomeUnknown, GatewayError
from flashsale_testing.memory import InMemoryPaymentLedger


def gateway(ledger, **kwargs) -> SimulatedPaymentGateway:
    kwargs.setdefault("latency", 0)
    return SimulatedPaymentGateway(ledger, rng=random.Random(1), **kwargs)


def test_a_repeated_key_replays_the_first_charge(ledger):
    gw = gateway(ledger)
    first = gw.charge("o1", Decimal("10"), 1, "k1")
    again = gw.charge("o1", Decimal("10"), 1, "k1")
    assert first.status is ChargeStatus.APPROVED and not first.replayed
    assert again.replayed and again.payment_id == first.payment_id
    [entry] = ledger.charges("o1")
    assert (entry.charge_id, entry.amount, entry.idempotency_key) == (
        first.payment_id,
        Decimal("10"),
        "k1",
    )


def test_another_key_really_charges_again(ledger):
    gw = gateway(ledger)
    first = gw.charge("o1", Decimal("10"), 1, "k1")
    second = gw.charge("o1", Decimal("10"), 1, "k2")
    unkeyed = gw.charge("o1", Decimal("10"), 1)
    assert not second.replayed and not unkeyed.replayed
    ids = [e.charge_id for e in ledger.charges("o1")]
    assert sorted(ids) == sorted({first.payment_id, second.payment_id, unkeyed.payment_id})
    assert len(ids) == 3


def test_declines_are_recorded_and_replayed(ledger):
    gw = gateway(ledger, decline_rate=1.0)
    assert gw.charge("o1", Decimal("1"), 1, "k").status is ChargeStatus.DECLINED
    assert gw.charge("o1", Decimal("1"), 1, "k").replayed
    assert [e.status for e in ledger.charges("o1")] == ["declined"]


def test_errors_charge_nothing(ledger):
    gw = gateway(ledger, error_rate=1.0)
    with pytest.raises(GatewayError):
        gw.charge("o1", Decimal("1"), 1, "k")
    assert ledger.charges("o1") == []
    assert gw.lookup("o1", "k") is None


def test_a_lost_answer_is_unknown_and_found_by_key(ledger):
    gw = gateway(ledger, lost_answer_rate=1.0)
    with pytest.raises(ChargeOutcomeUnknown):
        gw.charge("o1", Decimal("4"), 1, "k")
    [entry] = ledger.charges("o1")
    found = gw.lookup("o1", "k")
    assert found is not None and found.payment_id == entry.charge_id and found.approved
    retry = gw.charge("o1", Decimal("4"), 1, "k")
    assert retry.replayed and retry.payment_id == entry.charge_id
    assert len(ledger.charges("o1")) == 1


def test_a_failed_ledger_write_is_an_unknown_outcome_not_an_error(ledger):
    ledger.fail_with, ledger.fail_after_write = ConnectionError("timeout"), True
    gw = gateway(ledger)
    with pytest.raises(ChargeOutcomeUnknown):
        gw.charge("o1", Decimal("4"), 1, "k")
    assert len(ledger.charges("o1")) == 1  # applied although the caller never heard


def test_a_key_replays_only_within_its_retention():
    now = [1000.0]
    ledger = InMemoryPaymentLedger(clock=lambda: now[0])
    gw = gateway(ledger, key_retention_seconds=60, clock=lambda: now[0])
    first = gw.charge("o1", Decimal("1"), 1, "k")
    now[0] += 59
    assert gw.charge("o1", Decimal("1"), 1, "k").payment_id == first.payment_id
    now[0] += 2
    assert gw.lookup("o1", "k") is None
    assert not gw.charge("o1", Decimal("1"), 1, "k").replayed
    assert len(ledger.charges("o1")) == 2


def test_a_key_used_for_another_order_is_refused(ledger):
    gw = gateway(ledger)
    gw.charge("o1", Decimal("1"), 1, "k")
    with pytest.raises(IdempotencyKeyReused):
        gw.charge("o2", Decimal("1"), 1, "k")
    assert ledger.charges("o2") == []


def test_latency_is_slept_inside_a_limited_number_of_slots(ledger):
    inside = 0
    peak = 0
    lock = threading.Lock()
    release = threading.Event()

    def sleep(seconds):
        nonlocal inside, peak
        assert seconds > 2.9  # the latency, from when the slot freed (see below)
        with lock:
            inside += 1
            peak = max(peak, inside)
        release.wait(5)
        with lock:
            inside -= 1

    gw = SimulatedPaymentGateway(ledger, latency=3.0, concurrency=2, sleep=sleep)
    threads = [threading.Thread(target=gw.charge, args=(f"o{i}", Decimal(1), 1)) for i in range(5)]
    for thread in threads:
        thread.start()
    release.set()
    for thread in threads:
        thread.join(5)
    assert peak == 2
    assert sum(len(ledger.charges(f"o{i}")) for i in range(5)) == 5


def test_a_charge_queued_for_a_slot_is_served_from_the_moment_the_slot_frees(ledger):
    """The gateway's clock, not its callers' threads, paces the slot: one second queued, the
    thread woken 0.25 s late by a busy interpreter, the charge still ends 3 s after the slot
    freed. A charge arriving at an idle slot gets the full latency."""
    slept: list[float] = []
    # monotonic readings: (arrival, before sleeping) per charge
    readings = iter([0.0, 0.0, 1.0, 3.25, 7.0, 7.0, 7.5, 13.0])
    gw = SimulatedPaymentGateway(
        ledger, latency=3.0, concurrency=1, sleep=slept.append, monotonic=readings.__next__
    )
    for i in range(4):
        gw.charge(f"o{i}", Decimal(1), 1)
    # o0 [0, 3]; o1 queued at 1 -> [3, 6]; o2 at an idle slot [7, 10]; o3 queued at 7.5 ->
    # [10, 13], its thread woke at 13: nothing left to wait
    assert slept == [3.0, 2.75, 3.0, 0.0]


def test_concurrent_charges_with_one_key_charge_once(ledger):
    gw = gateway(ledger)
    results = []
    threads = [
        threading.Thread(target=lambda: results.append(gw.charge("o1", Decimal(1), 1, "k")))
        for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(5)
    assert len(ledger.charges("o1")) == 1
    assert len({r.payment_id for r in results}) == 1
    assert sum(not r.replayed for r in results) == 1
