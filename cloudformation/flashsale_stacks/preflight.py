"""Refusals before any AWS call, and the emulators' stand-ins for the choices AWS requires.

On AWS a stack must not be named `local` (the API's published key and test card live there),
and every parameter without a default (the admin key's secret, the certificate, who may reach
the load balancer, the image tag) must be given: CloudFormation would only refuse later,
after the artifacts were uploaded, and with less clear words.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from flashsale_stacks.common import ENV_PARAM

LOCAL_ENV_NAME = "local"

#: Locally (moto), the parameters AWS makes you choose get placeholders nothing checks.
LOCAL_STAND_INS = {
    "AdminApiKeySecretArn": "arn:aws:secretsmanager:us-east-1:000000000000:secret:local-admin",
    "AlbIngressCidr": "127.0.0.1/32",
    "ImageTag": "local",  # moto runs no containers
}

#: What to say about a parameter without a default that was not given.
HINTS = {
    "AdminApiKeySecretArn": "the ARN of the secret or SSM SecureString holding the admin key",
    "CertificateArn": "an ACM certificate ARN (an imported self-signed one will do)",
    "AlbIngressCidr": "who may reach the load balancer, e.g. 203.0.113.0/24 (or 0.0.0.0/0)",
    "ImageTag": "the image tag to run (or IMAGE_TAG)",
}


def required_parameters(template_body: str) -> list[str]:
    """The template's parameters that have no default, EnvName aside."""
    parameters = json.loads(template_body).get("Parameters", {})
    return sorted(k for k, v in parameters.items() if "Default" not in v and k != ENV_PARAM)


def aws_refusal(env_name: str, bodies: Mapping[str, str], given: Mapping[str, str]) -> str | None:
    """One line saying why this AWS deploy must not start, or None."""
    if env_name == LOCAL_ENV_NAME:
        return (
            f"refusing EnvName={LOCAL_ENV_NAME} on AWS: it is the local stack's name (published "
            "admin key, test card); pass --env-name or set ENV_NAME"
        )
    for key, body in bodies.items():
        missing = [name for name in required_parameters(body) if not given.get(name)]
        if missing:
            wanted = "; ".join(f"{name}: {HINTS.get(name, 'required')}" for name in missing)
            return f"{key} needs --param {missing[0]}=... ({wanted})"
    return None
