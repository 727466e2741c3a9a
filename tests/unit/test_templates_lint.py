"""cfn-lint (through its Python API) finds nothing in any template, informational rules included."""

from __future__ import annotations

import pytest

from flashsale_stacks import registry
from flashsale_stacks.lint import lint_template


@pytest.mark.parametrize("spec", registry.STACKS, ids=lambda spec: spec.key)
def test_cfn_lint_is_clean(spec: registry.StackSpec) -> None:
    findings = lint_template(spec.key, spec.render())
    assert [str(f) for f in findings] == []


def test_cfn_lint_reports_a_broken_template() -> None:
    body = '{"Resources": {"Q": {"Type": "AWS::SQS::Queue", "Properties": {"Visibility": 5}}}}'
    assert any(f.level == "Error" for f in lint_template("broken", body))
