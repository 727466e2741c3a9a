"""cfn-lint, through its Python API, on rendered templates."""

from __future__ import annotations

from dataclasses import dataclass

from cfnlint.api import ManualArgs, lint

REGIONS = ["us-east-1"]


@dataclass(frozen=True)
class Finding:
    stack: str
    rule: str
    level: str  # Error | Warning | Informational
    message: str
    path: str

    def __str__(self) -> str:
        return f"{self.stack}: {self.level} {self.rule} at {self.path}: {self.message}"


def lint_template(stack: str, body: str, regions: list[str] | None = None) -> list[Finding]:
    """Every cfn-lint finding (errors, warnings and informational) for one template."""
    matches = lint(body, config=ManualArgs(regions=regions or REGIONS, include_checks=["I"]))
    return [
        Finding(
            stack=stack,
            rule=match.rule.id,
            level=_level(match.rule.id),
            message=match.message,
            path="/".join(str(part) for part in match.path) if match.path else "",
        )
        for match in matches
    ]


def _level(rule_id: str) -> str:
    return {"E": "Error", "W": "Warning", "I": "Informational"}.get(rule_id[:1], "Error")
