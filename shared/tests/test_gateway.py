import random
import threading
from decimal import Decimal

import pytest

from flashsale.domain.model import ChargeStatus
from flashsale.gateway import SimulatedPaymentGateway
from flashsale.ports import GatewayError


def gateway(ledger, **kwargs) -> SimulatedPaymentGateway:
    kwargs.setdefault("latency", 0)
    return SimulatedPaymentGateway(ledger, rng=random.Random(1), **kwargs)


def test_charge_is_recorded_and_idempotent(ledger):
    gw = gateway(ledger)
    first = gw.charge("o1", Decimal("10"), 1)
    again = gw.charge("o1", Decimal("10"), 1)
    assert first.status is ChargeStatus.APPROVED and not first.replayed
    assert again.replayed and again.payment_id == first.payment_id
    assert [e.charge_id for e in ledger.charges("o1")] == [first.payment_id]
    assert ledger.charges("o1")[0].amount == Decimal("10")


def test_declines_are_recorded_and_replayed(ledger):
    gw = gateway(ledger, decline_rate=1.0)
    assert gw.charge("o1", Decimal("1"), 1).status is ChargeStatus.DECLINED
    assert gw.charge("o1", Decimal("1"), 1).status is ChargeStatus.DECLINED
    assert len(ledger.charges("o1")) == 1


def test_errors_charge_nothing(ledger):
    gw = gateway(ledger, error_rate=1.0)
    with pytest.raises(GatewayError):
        gw.charge("o1", Decimal("1"), 1)
    assert ledger.charges("o1") == []


def test_latency_is_slept_inside_a_limited_number_of_slots(ledger):
    inside = 0
    peak = 0
    lock = threading.Lock()
    release = threading.Event()

    def sleep(seconds):
        nonlocal inside, peak
        assert seconds == 3.0
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
    assert peak <= 2
    assert sum(len(ledger.charges(f"o{i}")) for i in range(5)) == 5


def test_concurrent_charges_of_one_order_charge_once(ledger):
    gw = gateway(ledger)
    results = []
    threads = [
        threading.Thread(target=lambda: results.append(gw.charge("o1", Decimal(1), 1)))
        for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(5)
    assert len(ledger.charges("o1")) == 1
    assert len({r.payment_id for r in results}) == 1
    assert sum(not r.replayed for r in results) == 1
    assert gw._order_locks == {}
