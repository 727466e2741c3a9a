"""What the infrastructure stacks need to be created on moto next to the local pipeline.

network, api, processor and observability run on moto's CloudFormation, while the stacks they
import from (messaging, payment_fn) live in LocalStack's. Their exports are mirrored into moto as
one stack of outputs, `{env}-localstack-exports`, so `Fn::ImportValue` resolves to the real local
values. The HTTPS listener needs a certificate moto's ACM knows: a self-signed one is imported,
exactly as cloudformation/README.md does on AWS without a domain of one's own.
"""

from __future__ import annotations

import datetime
import json
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from flashsale_stacks.deploy import DeployResult, Waiter, deploy_stack

MIRROR_SUFFIX = "localstack-exports"


def mirror_template(exports: list[dict[str, str]], env_name: str) -> str:
    """A template whose only job is to export `exports` (those of this environment)."""
    mine = sorted(
        (e for e in exports if e["Name"].startswith(f"{env_name}-")), key=lambda e: e["Name"]
    )
    outputs = {
        f"Export{index}": {"Value": export["Value"], "Export": {"Name": export["Name"]}}
        for index, export in enumerate(mine)
    }
    resources = {"Placeholder": {"Type": "AWS::CloudFormation::WaitConditionHandle"}}
    return json.dumps({"Resources": resources, "Outputs": outputs}, indent=2, sort_keys=True)


def mirror_exports(
    localstack_cfn: Any, moto_cfn: Any, env_name: str, waiter: Waiter
) -> DeployResult:
    exports: list[dict[str, str]] = []
    for page in localstack_cfn.get_paginator("list_exports").paginate():
        exports += page.get("Exports", [])
    body = mirror_template(exports, env_name)
    name = f"{env_name}-{MIRROR_SUFFIX}"
    tags = {"Project": "flashsale"}
    return deploy_stack(moto_cfn, name, body, {}, tags, waiter, change_set=False)


def self_signed_certificate(acm: Any, env_name: str) -> str:
    """The ARN of this environment's self-signed certificate in (moto's) ACM, imported once."""
    domain = f"{env_name}.flashsale.localhost"
    for summary in acm.list_certificates()["CertificateSummaryList"]:
        if summary.get("DomainName") == domain:
            return summary["CertificateArn"]
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, domain)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=365))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(domain)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    return acm.import_certificate(
        Certificate=certificate.public_bytes(serialization.Encoding.PEM),
        PrivateKey=key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    )["CertificateArn"]
