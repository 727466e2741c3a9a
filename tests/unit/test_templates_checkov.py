"""checkov over every template: 0 failed checks, and every skip carries its reason."""

from __future__ import annotations

import json

import pytest

from flashsale_stacks import registry, scan


@pytest.fixture(scope="module")
def bodies() -> dict[str, str]:
    return registry.render_all()


@pytest.mark.timeout(300)
def test_every_template_passes_checkov_or_says_why_not(bodies: dict[str, str]) -> None:
    result = scan.scan(bodies)
    assert result.passed > 0
    assert not result.failed, result.failed
    assert not result.unexplained_skips, result.unexplained_skips


@pytest.mark.timeout(300)
def test_a_dropped_skip_is_a_failed_check(bodies: dict[str, str]) -> None:
    """The negative control: without its documented skip, the API's log group fails the scan."""
    api = json.loads(bodies["api"])
    del api["Resources"]["LogGroup"]["Metadata"]
    result = scan.scan({"api": json.dumps(api)})
    assert any("CKV_AWS_158" in failure for failure in result.failed), result.failed


def test_a_skip_without_a_reason_is_reported() -> None:
    report = {
        "results": {
            "passed_checks": [{}],
            "failed_checks": [],
            "skipped_checks": [
                {"check_id": "CKV_AWS_1", "file_path": "/api.json", "check_result": {}}
            ],
        }
    }
    result = scan.parse(report)
    assert result.skipped == 1 and result.unexplained_skips and not result.ok
