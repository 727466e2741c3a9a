"""Least-privilege check of every IAM statement in a rendered template.

Flags `Action: "*"`, service-wide actions (`sqs:*`), `NotAction`/`NotResource`, and
`Resource: "*"` unless every action of the statement has no narrower resource
(iam.WILDCARD_ONLY_ACTIONS).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from flashsale_stacks.iam import WILDCARD_ONLY_ACTIONS

POLICY_KEYS = ("PolicyDocument",)  # AssumeRolePolicyDocument names principals, not resources


def violations(template: dict[str, Any]) -> list[str]:
    found = []
    for logical_id, resource in sorted(template.get("Resources", {}).items()):
        for statement in _statements(resource.get("Properties", {})):
            found.extend(f"{logical_id}: {problem}" for problem in _check(statement))
    return found


def _statements(node: Any, in_policy: bool = False) -> Iterator[dict[str, Any]]:
    """Statements of every policy document under `node` (both branches of any Fn::If)."""
    if isinstance(node, dict):
        if in_policy and "Effect" in node:
            yield node
            return
        for key, value in node.items():
            yield from _statements(value, in_policy or key in POLICY_KEYS)
    elif isinstance(node, list):
        for value in node:
            yield from _statements(value, in_policy)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _check(statement: dict[str, Any]) -> list[str]:
    problems = []
    if statement.get("Effect") != "Allow":
        return problems
    for key in ("NotAction", "NotResource"):
        if key in statement:
            problems.append(f"{key} grants everything else")
    actions = [a for a in _as_list(statement.get("Action", [])) if isinstance(a, str)]
    for action in actions:
        if action == "*" or action.endswith(":*"):
            problems.append(f"wildcard action {action!r}")
    if "*" in _as_list(statement.get("Resource", [])):
        narrowable = sorted(set(actions) - WILDCARD_ONLY_ACTIONS)
        if narrowable:
            problems.append(f'Resource "*" for {narrowable}, which can name resources')
    return problems
