"""PAYMENT_DECLINE_CUSTOMER_IDS: the simulated gateway's "test cards"."""

import random
from decimal import Decimal

import pytest

from flashsale import bootstrap
from flashsale.adapters.simulated_gateway import SimulatedPaymentGateway
from flashsale.domain.model import ChargeStatus
from flashsale.ports import GatewayError
from flashsale.settings import LOCAL_DECLINE_CUSTOMER_ID, Settings


def test_local_env_declines_the_test_customer_by_default():
    assert Settings.from_env({}).payment_decline_customer_ids == {LOCAL_DECLINE_CUSTOMER_ID}
    assert Settings.from_env({"ENV_NAME": "local"}).payment_decline_customer_ids == {4000000002}


def test_other_envs_decline_nobody_by_default():
    assert Settings.from_env({"ENV_NAME": "prod"}).payment_decline_customer_ids == frozenset()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("7", {7}),
        (" 7, 8 ,,9 ", {7, 8, 9}),
        ("", {LOCAL_DECLINE_CUSTOMER_ID}),
        ("none", set()),
        ("NONE", set()),
    ],
)
def test_the_variable_overrides_the_default(raw, expected):
    env = {"ENV_NAME": "local", "PAYMENT_DECLINE_CUSTOMER_IDS": raw}
    assert Settings.from_env(env).payment_decline_customer_ids == expected


def test_the_variable_applies_outside_local_too():
    env = {"ENV_NAME": "staging", "PAYMENT_DECLINE_CUSTOMER_IDS": "42"}
    assert Settings.from_env(env).payment_decline_customer_ids == {42}


def test_a_non_integer_id_names_the_variable():
    with pytest.raises(ValueError, match="PAYMENT_DECLINE_CUSTOMER_IDS: 'card' is not an integer"):
        Settings.from_env({"PAYMENT_DECLINE_CUSTOMER_IDS": "1,card"})


def test_listed_customers_are_declined_others_approved(ledger):
    gw = SimulatedPaymentGateway(ledger, latency=0, decline_customer_ids={13}, rng=random.Random(1))
    assert gw.charge("o1", Decimal("5"), 13, "k1").status is ChargeStatus.DECLINED
    assert gw.charge("o2", Decimal("5"), 14, "k2").status is ChargeStatus.APPROVED
    assert [entry.status for entry in ledger.charges("o1")] == ["declined"]
    # a redelivery (same key) replays the recorded decline, it does not charge again
    again = gw.charge("o1", Decimal("5"), 13, "k1")
    assert again.replayed and again.status is ChargeStatus.DECLINED
    assert len(ledger.charges("o1")) == 1


def test_gateway_errors_still_apply_to_listed_customers(ledger):
    gw = SimulatedPaymentGateway(ledger, latency=0, error_rate=1.0, decline_customer_ids={13})
    with pytest.raises(GatewayError):
        gw.charge("o1", Decimal("5"), 13)
    assert ledger.charges("o1") == []


def test_bootstrap_wires_the_setting_into_the_gateway(monkeypatch):
    settings = Settings.from_env({"ENV_NAME": "t", "PAYMENT_DECLINE_CUSTOMER_IDS": "5,6"})
    monkeypatch.setattr(bootstrap, "payment_ledger", lambda _settings: object())
    gateway = bootstrap.gateway.__wrapped__(settings)
    assert gateway.decline_customer_ids == {5, 6}
