"""Least privilege you can read: the README's access matrix is exactly what the templates grant."""

from __future__ import annotations

import json

import pytest

from flashsale_stacks import access_matrix, registry
from flashsale_stacks.access_matrix import Grant

#: The roles whose code charges: the API (sync path), the processor, the payment Lambda.
CHARGING_ROLES = {"api/TaskRole", "processor/TaskRole", "payment_fn/Role"}
WRITES = {
    "dynamodb:BatchWriteItem",
    "dynamodb:DeleteItem",
    "dynamodb:PartiQLDelete",
    "dynamodb:PartiQLInsert",
    "dynamodb:PartiQLUpdate",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
}


@pytest.fixture(scope="module")
def grants() -> list[Grant]:
    return access_matrix.all_grants(registry.render_all())


def test_the_readme_lists_every_grant_and_nothing_else(grants: list[Grant]) -> None:
    documented = access_matrix.documented(access_matrix.README.read_text())
    generated = access_matrix.markdown(grants)
    extra = sorted(set(generated.splitlines()) - set(documented.splitlines()))
    stale = sorted(set(documented.splitlines()) - set(generated.splitlines()))
    assert not extra, f"granted but not in cloudformation/README.md: {extra}"
    assert not stale, f"in cloudformation/README.md but not granted: {stale}"


def test_only_what_charges_can_write_the_ledger(grants: list[Grant]) -> None:
    writers = {
        g.role
        for g in grants
        if g.resource.startswith("table payments") and WRITES & set(g.actions)
    }
    assert writers and writers <= CHARGING_ROLES, writers
    assert not any(
        g.resource == "*" and any(a.startswith("dynamodb:") for a in g.actions) for g in grants
    )


def test_the_api_cannot_scan_or_delete_orders(grants: list[Grant]) -> None:
    (orders,) = [g for g in grants if g.role == "api/TaskRole" and g.resource == "table orders"]
    assert not {"dynamodb:Scan", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"} & set(
        orders.actions
    )


def test_ready_is_granted_exactly_the_reads_it_makes(grants: list[Grant]) -> None:
    api = [g for g in grants if g.role == "api/TaskRole"]
    described = {g.resource for g in api if "dynamodb:DescribeTable" in g.actions}
    assert described == {"table orders", "table products", "table idempotency", "table payments"}
    (topic,) = [g for g in api if g.resource == "import order-topic-arn"]
    assert "sns:GetTopicAttributes" in topic.actions


def test_a_grant_added_to_a_template_is_caught() -> None:
    """The negative control: one more action on one role is a row the README lacks."""
    bodies = registry.render_all()
    api = json.loads(bodies["api"])
    statements = api["Resources"]["TaskRole"]["Properties"]["Policies"][0]["PolicyDocument"]
    statements["Statement"].append(
        {
            "Effect": "Allow",
            "Action": ["dynamodb:Scan"],
            "Resource": [statements["Statement"][1]["Resource"][0]],
        }
    )
    widened = access_matrix.markdown(access_matrix.all_grants({**bodies, "api": json.dumps(api)}))
    documented = access_matrix.documented(access_matrix.README.read_text())
    assert set(widened.splitlines()) - set(documented.splitlines())
