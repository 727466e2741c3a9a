"""Who may do what: every IAM role's grants, read from the rendered templates.

One row per (role, resource): the role as `stack/LogicalId`, the resource in words
(`table orders`, `import order-topic-arn`, `param AdminApiKeySecretArn`), the actions. Both
branches of an `Fn::If` are listed, marked with the condition. cloudformation/README.md holds
the generated table between two markers; tests/unit/test_templates_access.py fails when a
template grants anything the README does not list.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

START = "<!-- access-matrix:start (generated: python -m flashsale_stacks access-matrix --write) -->"
END = "<!-- access-matrix:end -->"
README = Path(__file__).resolve().parents[1] / "README.md"

_ARN_PREFIX = re.compile(
    r"^arn:\$\{AWS::Partition\}:([a-z0-9-]+):(\$\{AWS::Region\})?:(\$\{AWS::AccountId\})?:"
)
_TABLE = re.compile(r"^table/\$\{EnvName\}-([a-z-]+)(/index/\*)?$")


@dataclass(frozen=True, order=True)
class Grant:
    role: str
    resource: str
    actions: tuple[str, ...]
    condition: str = ""


def resource_name(resource: Any) -> str:
    """A template resource expression in words."""
    if resource == "*":
        return "*"
    if isinstance(resource, dict) and "Fn::ImportValue" in resource:
        return "import " + _sub(resource["Fn::ImportValue"]).removeprefix("${EnvName}-")
    if isinstance(resource, dict) and "Fn::GetAtt" in resource:
        return f"own {resource['Fn::GetAtt'][0]}"
    if isinstance(resource, dict) and "Ref" in resource:
        return f"param {resource['Ref']}"
    text = _sub(resource)
    match = _ARN_PREFIX.match(text)
    if not match:
        return text
    service, rest = match.group(1), text[match.end() :]
    table = _TABLE.match(rest) if service == "dynamodb" else None
    if table:
        return f"table {table.group(1)}" + (" indexes" if table.group(2) else "")
    return f"{service} {rest}"


def _sub(value: Any) -> str:
    if isinstance(value, dict) and "Fn::Sub" in value:
        sub = value["Fn::Sub"]
        return sub if isinstance(sub, str) else sub[0]
    return json.dumps(value, sort_keys=True) if not isinstance(value, str) else value


def grants(stack: str, template: Mapping[str, Any]) -> list[Grant]:
    found = []
    for logical_id, resource in template.get("Resources", {}).items():
        if resource.get("Type") != "AWS::IAM::Role":
            continue
        role = f"{stack}/{logical_id}"
        for policy in resource.get("Properties", {}).get("Policies", []):
            for condition, statement in _statements(policy["PolicyDocument"]["Statement"]):
                if statement.get("Effect") != "Allow":
                    continue
                actions = statement["Action"]
                actions = tuple(sorted([actions] if isinstance(actions, str) else actions))
                resources = statement["Resource"]
                for item in resources if isinstance(resources, list) else [resources]:
                    found.append(Grant(role, resource_name(item), actions, condition))
    return sorted(found)


def _statements(node: Any, condition: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(node, list):
        for item in node:
            yield from _statements(item, condition)
    elif isinstance(node, dict) and "Fn::If" in node:
        name, when_true, when_false = node["Fn::If"]
        yield from _statements(when_true, f"if {name}")
        yield from _statements(when_false, f"unless {name}")
    elif isinstance(node, dict) and node != {"Ref": "AWS::NoValue"}:
        yield condition, node


def all_grants(bodies: Mapping[str, str]) -> list[Grant]:
    """Every grant of every template, one per (role, resource, condition), actions merged."""
    merged: dict[tuple[str, str, str], set[str]] = {}
    for stack, body in bodies.items():
        for g in grants(stack, json.loads(body)):
            merged.setdefault((g.role, g.resource, g.condition), set()).update(g.actions)
    return sorted(
        Grant(role, resource, tuple(sorted(actions)), condition)
        for (role, resource, condition), actions in merged.items()
    )


def markdown(found: list[Grant]) -> str:
    lines = ["| role | resource | actions |", "|---|---|---|"]
    for grant in found:
        resource = f"{grant.resource} ({grant.condition})" if grant.condition else grant.resource
        actions = ", ".join(grant.actions)
        lines.append(f"| `{grant.role}` | {resource} | {actions} |")
    return "\n".join(lines)


def documented(readme: str) -> str:
    """The matrix as cloudformation/README.md holds it."""
    if START not in readme or END not in readme:
        raise ValueError(f"the README has no access matrix between {START!r} and {END!r}")
    return readme.split(START, 1)[1].split(END, 1)[0].strip()


def with_matrix(readme: str, table: str) -> str:
    """`readme` with the generated table in place of the one between the markers."""
    head, rest = readme.split(START, 1)
    tail = rest.split(END, 1)[1]
    return f"{head}{START}\n{table}\n{END}{tail}"
