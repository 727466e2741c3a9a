"""The CLI's offline behaviour: rendering, validation, usage errors before any AWS call."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flashsale_stacks import registry
from flashsale_stacks.cli import main
from flashsale_stacks.targets import Env, Target

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
    ],
)
def test_usage_errors_exit_2_without_touching_aws(
    argv: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing listens: must not call
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:9")
    assert main(argv) == 2


def test_make_up_deploys_only_the_stacks_the_pipeline_runs_on() -> None:
    target = Target.from_environ(Env.LOCAL, {})
    pipeline = [spec.key for spec in registry.STACKS if target.pipeline(spec)]
    assert pipeline == ["data", "messaging", "payment_fn"]
    assert all(target.endpoint_for(spec) for spec in registry.STACKS)  # all deploy locally


def test_service_stacks_need_an_image_tag_on_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("IMAGE_TAG", raising=False)
    assert main(["deploy", "processor", "--env", "aws", "--env-name", "dev"]) == 2


SECRET = "--param=AdminApiKeySecretArn=arn:aws:secretsmanager:eu-west-1:123456789012:secret:a-x"
CERTIFICATE = "--param=CertificateArn=arn:aws:acm:eu-west-1:123456789012:certificate/abc"
TAG = "--param=ImageTag=abc123"
API_READY = [SECRET, CERTIFICATE, TAG]


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["deploy", "api", "--env", "aws", "--env-name", "local", *API_READY], "EnvName=local"),
        (["deploy-all", "--env", "aws", "--env-name", "local", *API_READY], "EnvName=local"),
        (
            ["deploy", "api", "--env", "aws", "--env-name", "prod", CERTIFICATE, TAG],
            "api needs --param AdminApiKeySecretArn=",
        ),
        (
            ["deploy", "api", "--env", "aws", "--env-name", "prod", SECRET, TAG],
            "api needs --param CertificateArn=",
        ),
        (
            ["deploy", "network", "--env", "aws", "--env-name", "prod"],
            "network needs --param AlbIngressCidr=",
        ),
    ],
)
def test_aws_deploys_refuse_local_name_missing_secret_or_certificate_in_one_line(
    argv: list[str], said: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.delenv("IMAGE_TAG", raising=False)
    monkeypatch.delenv("ENV_NAME", raising=False)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)  # any call to AWS would fail differently
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and said in err[0], err


def test_the_api_template_takes_the_admin_key_from_a_secret_never_a_plain_value() -> None:
    template = json.loads(registry.get("api").render())
    parameters = template["Parameters"]
    assert "Default" not in parameters["AdminApiKeySecretArn"]
    assert "Default" not in parameters["CertificateArn"]
    (app,) = [
        c
        for c in template["Resources"]["TaskDefinition"]["Properties"]["ContainerDefinitions"]
        if c["Name"] == "api"
    ]
    assert {e["Name"] for e in app["Environment"]}.isdisjoint({"ADMIN_API_KEY"})
    assert app["Secrets"] == [
        {"Name": "ADMIN_API_KEY", "ValueFrom": {"Ref": "AdminApiKeySecretArn"}}
    ]
    listeners = {
        r["Properties"]["Port"]: r["Properties"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::ElasticLoadBalancingV2::Listener"
    }
    assert listeners[443]["Protocol"] == "HTTPS"
    assert listeners[443]["Certificates"] == [{"CertificateArn": {"Ref": "CertificateArn"}}]
    assert [a["Type"] for a in listeners[80]["DefaultActions"]] == ["redirect"]
    assert listeners[80]["DefaultActions"][0]["RedirectConfig"]["Protocol"] == "HTTPS"
