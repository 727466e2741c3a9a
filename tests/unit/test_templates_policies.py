"""IAM is least-privilege: no `*` action, no `*` resource where a narrower one exists."""

from __future__ import annotations

import json

import pytest

from flashsale_stacks import registry
from flashsale_stacks.policy_check import violations


@pytest.mark.parametrize("spec", registry.STACKS, ids=lambda spec: spec.key)
def test_no_overbroad_statements(spec: registry.StackSpec) -> None:
    assert violations(json.loads(spec.render())) == []


def _role(*statements: dict) -> dict:
    return {
        "Resources": {
            "Role": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "AssumeRolePolicyDocument": {
                        "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole"}]
                    },
                    "Policies": [{"PolicyDocument": {"Statement": list(statements)}}],
                },
            }
        }
    }


@pytest.mark.parametrize(
    "statement",
    [
        {"Effect": "Allow", "Action": "*", "Resource": {"Fn::GetAtt": ["Queue", "Arn"]}},
        {"Effect": "Allow", "Action": ["sqs:*"], "Resource": ["arn:aws:sqs:::q"]},
        {"Effect": "Allow", "Action": ["dynamodb:GetItem"], "Resource": "*"},
        {"Effect": "Allow", "Action": ["xray:PutTraceSegments", "sns:Publish"], "Resource": ["*"]},
        {"Effect": "Allow", "NotAction": ["iam:*"], "Resource": "arn:aws:s3:::b"},
    ],
)
def test_the_check_catches_overbroad_statements(statement: dict) -> None:
    assert violations(_role(statement))


def test_the_check_looks_inside_conditional_statements() -> None:
    bad = {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": "*"}
    assert violations(_role({"Fn::If": ["Cond", bad, {"Ref": "AWS::NoValue"}]}))


def test_wildcard_resource_is_allowed_only_for_actions_without_resource_scoping() -> None:
    statement = {"Effect": "Allow", "Action": ["xray:PutTraceSegments"], "Resource": "*"}
    assert violations(_role(statement)) == []
