"""The gateway's idempotency across processes: two gateways (two processes' worth of in-process
locks) charging one order at the same instant record one charge on a shared ledger."""

import threading
from decimal import Decimal

import pytest

from flashsale.adapters.dynamodb import DynamoDbPaymentLedger
from flashsale.domain.model import ChargeStatus
from flashsale.gateway import SimulatedPaymentGateway, charge_id
from flashsale.ports import GatewayError

from .moto_support import SETTINGS, dynamodb_with_tables, moto_aws


@pytest.fixture
def shared_ledger():
    with moto_aws():
        yield DynamoDbPaymentLedger(dynamodb_with_tables(), SETTINGS.payments_table)


def test_simultaneous_charges_from_two_processes_record_one(shared_ledger):
    both_inside = threading.Barrier(2)
    gateways = [
        SimulatedPaymentGateway(shared_ledger, sleep=lambda _s: both_inside.wait(5))
        for _ in range(2)
    ]
    results = []
    threads = [
        threading.Thread(target=lambda gw=gw: results.append(gw.charge("o1", Decimal("3"), 7)))
        for gw in gateways
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)

    assert len(results) == 2
    assert [entry.charge_id for entry in shared_ledger.charges("o1")] == [charge_id("o1")]
    assert {result.payment_id for result in results} == {charge_id("o1")}
    assert sorted(result.replayed for result in results) == [False, True]
    assert {result.status for result in results} == {ChargeStatus.APPROVED}


def test_a_charge_id_is_stable_per_order_and_unique_across_orders():
    assert charge_id("o1") == charge_id("o1")
    assert charge_id("o1") != charge_id("o2")
    assert charge_id("o1").startswith("pay_")


class _BrokenLedger:
    def first_charge(self, order_id):
        return None

    def record(self, entry):
        raise ConnectionError("ledger down")

    def charges(self, order_id):
        return []


def test_a_failed_record_with_no_winner_is_a_gateway_error():
    gateway = SimulatedPaymentGateway(_BrokenLedger(), latency=0)
    with pytest.raises(GatewayError, match="ledger unavailable"):
        gateway.charge("o1", Decimal("1"), 1)
