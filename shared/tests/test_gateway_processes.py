"""The gateway on the DynamoDB ledger: two gateways (two processes) charging one order at the
same instant with one key record one charge; another key records another; key records never
look like charges."""

import threading
import time
from decimal import Decimal

import pytest

from flashsale.adapters.dynamodb import DynamoDbPaymentLedger
from flashsale.adapters.simulated_gateway import SimulatedPaymentGateway
from flashsale.domain.model import ChargeStatus
from flashsale.ports import ChargeOutcomeUnknown

from .moto_support import SETTINGS, dynamodb_with_tables, moto_aws


@pytest.fixture
def shared_ledger():
    with moto_aws():
        yield DynamoDbPaymentLedger(dynamodb_with_tables(), SETTINGS.payments_table)


def charge_together(gateways, keys):
    both_inside = threading.Barrier(len(gateways))
    for gw in gateways:
        gw._sleep = lambda _s: both_inside.wait(5)
    results = []
    threads = [
        threading.Thread(
            target=lambda gw=gw, k=k: results.append(gw.charge("o1", Decimal(3), 7, k))
        )
        for gw, k in zip(gateways, keys, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    return results


def test_simultaneous_charges_with_one_key_record_one(shared_ledger):
    gateways = [SimulatedPaymentGateway(shared_ledger) for _ in range(2)]
    results = charge_together(gateways, ["k", "k"])
    assert len(results) == 2
    [entry] = shared_ledger.charges("o1")
    assert {result.payment_id for result in results} == {entry.charge_id}
    assert sorted(result.replayed for result in results) == [False, True]
    assert {result.status for result in results} == {ChargeStatus.APPROVED}
    assert shared_ledger.by_key("k", time.time()) == entry


def test_simultaneous_charges_with_two_keys_record_two(shared_ledger):
    gateways = [SimulatedPaymentGateway(shared_ledger) for _ in range(2)]
    results = charge_together(gateways, ["k1", "k2"])
    charges = shared_ledger.charges("o1")
    assert sorted(e.charge_id for e in charges) == sorted(r.payment_id for r in results)
    assert len(charges) == 2 and all(e.charge_id.startswith("ch_") for e in charges)
    assert {e.idempotency_key for e in charges} == {"k1", "k2"}


def test_an_expired_key_charges_again(shared_ledger):
    now = [time.time() - 100]
    gw = SimulatedPaymentGateway(
        shared_ledger, latency=0, key_retention_seconds=10, clock=lambda: now[0]
    )
    first = gw.charge("o1", Decimal(1), 7, "k")
    now[0] = time.time()
    assert gw.lookup("o1", "k") is None
    second = gw.charge("o1", Decimal(1), 7, "k")
    assert not second.replayed and second.payment_id != first.payment_id
    assert gw.lookup("o1", "k").payment_id == second.payment_id


class _TimingOutClient:
    """Applies every write, then loses the answer (a read timeout after DynamoDB acted)."""

    def __init__(self, inner):
        self.inner = inner

    def transact_write_items(self, **kwargs):
        self.inner.transact_write_items(**kwargs)
        raise ConnectionError("read timeout")

    def __getattr__(self, name):
        return getattr(self.inner, name)


def test_a_write_whose_answer_is_lost_is_found_by_key(shared_ledger):
    lossy = DynamoDbPaymentLedger(_TimingOutClient(shared_ledger._client), shared_ledger.table)
    with pytest.raises(ChargeOutcomeUnknown):
        SimulatedPaymentGateway(lossy, latency=0).charge("o1", Decimal(1), 7, "k")
    found = SimulatedPaymentGateway(shared_ledger, latency=0).lookup("o1", "k")
    assert found is not None and [e.charge_id for e in shared_ledger.charges("o1")] == [
        found.payment_id
    ]


def test_concurrent_charges_share_transactions_and_a_used_key_replays_alone(shared_ledger):
    """Charges that end together share a TransactWriteItems (group commit); a key already used
    among them is answered with its first charge while its neighbours are recorded."""
    first = SimulatedPaymentGateway(shared_ledger, latency=0).charge("o0", Decimal(1), 7, "k0")
    gateways = [SimulatedPaymentGateway(shared_ledger) for _ in range(8)]
    all_inside = threading.Barrier(len(gateways))
    for gw in gateways:
        gw._sleep = lambda _s: all_inside.wait(5)
    results: dict[int, object] = {}
    threads = [
        threading.Thread(
            target=lambda i=i, gw=gw: results.__setitem__(
                i, gw.charge(f"o{i}", Decimal(2), 7, f"k{i}")
            )
        )
        for i, gw in enumerate(gateways)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert results[0].replayed and results[0].payment_id == first.payment_id
    assert not any(results[i].replayed for i in range(1, 8))
    for i in range(1, 8):
        assert [e.charge_id for e in shared_ledger.charges(f"o{i}")] == [results[i].payment_id]
    assert len(shared_ledger.charges("o0")) == 1
