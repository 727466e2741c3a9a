"""The CLI's offline behaviour: rendering, validation, usage errors before any AWS call."""

from __future__ import annotations

from pathlib import Path

import pytest

from flashsale_stacks import registry
from flashsale_stacks.cli import main

SNAPSHOTS = Path(__file__).parent / "snapshots"


def test_templates_writes_the_snapshotted_json(tmp_path: Path) -> None:
    assert main(["templates", "--out", str(tmp_path)]) == 0
    written = sorted(tmp_path.glob("*.json"))
    assert [p.stem for p in written] == sorted(spec.key for spec in registry.STACKS)
    for path in written:
        assert path.read_text() == (SNAPSHOTS / path.name).read_text()


def test_validate_one_stack(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "messaging"]) == 0
    assert "messaging: cfn-lint and IAM check clean" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv",
    [
        ["deploy", "no-such-stack"],
        ["deploy", "messaging", "--param", "NotAParameter=1"],
        ["deploy", "messaging", "--param", "missing-equals-sign"],
        ["deploy", "payment_fn", "--code", "/nonexistent/payment_fn.zip"],
        ["delete", "api", "--env", "local"],
    ],
)
def test_usage_errors_exit_2_without_touching_aws(
    argv: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing listens: must not call
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:9")
    assert main(argv) == 2


def test_a_validate_only_stack_is_not_deployed_locally(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    assert main(["deploy", "network", "--env", "local"]) == 0
    assert "network: validated; not deployable locally" in capsys.readouterr().out


def test_service_stacks_need_an_image_tag_on_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("IMAGE_TAG", raising=False)
    assert main(["deploy", "processor", "--env", "aws", "--env-name", "dev"]) == 2
