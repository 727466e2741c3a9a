"""Where a stack is deployed: real AWS, or the local emulators (LocalStack, moto).

`--env local` talks to LocalStack (AWS_ENDPOINT_URL, default http://127.0.0.1:4566) for every
stack it can run, and to moto's CloudFormation (AWS_ENDPOINT_URL_DYNAMODB, default
http://127.0.0.1:4567) for the DynamoDB tables. `--env aws` ignores every endpoint variable, so a
shell that sourced the local environment cannot deploy to the emulators by mistake.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import boto3
from botocore.config import Config

from flashsale_stacks.registry import LocalTarget, StackSpec

DEFAULT_LOCALSTACK_URL = "http://127.0.0.1:4566"
DEFAULT_MOTO_URL = "http://127.0.0.1:4567"
DEFAULT_REGION = "us-east-1"
MOTO_SERVICES = frozenset({"dynamodb", "xray"})


class Env(StrEnum):
    LOCAL = "local"
    AWS = "aws"


@dataclass(frozen=True)
class Target:
    """The clients for one environment, built from the process environment once."""

    env: Env
    region: str
    localstack_url: str
    moto_url: str
    has_credentials: bool = False

    @classmethod
    def from_environ(cls, env: Env, environ: Mapping[str, str] = os.environ) -> Target:
        return cls(
            env=env,
            region=environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION") or DEFAULT_REGION,
            localstack_url=environ.get("AWS_ENDPOINT_URL") or DEFAULT_LOCALSTACK_URL,
            moto_url=environ.get("AWS_ENDPOINT_URL_DYNAMODB") or DEFAULT_MOTO_URL,
            has_credentials=bool(environ.get("AWS_ACCESS_KEY_ID") or environ.get("AWS_PROFILE")),
        )

    def pipeline(self, spec: StackSpec) -> bool:
        """Whether the local pipeline runs on this stack (what `make up` deploys)."""
        return spec.local in (LocalTarget.MOTO, LocalTarget.LOCALSTACK)

    def endpoint_for(self, spec: StackSpec) -> str | None:
        """The CloudFormation endpoint deploying `spec` (None: the real AWS endpoint)."""
        if self.env is Env.AWS:
            return None
        if spec.local is LocalTarget.LOCALSTACK:
            return self.localstack_url
        return self.moto_url

    def cloudformation(self, spec: StackSpec) -> Any:
        return self._client("cloudformation", self.endpoint_for(spec))

    def localstack_cloudformation(self) -> Any:
        return self._client("cloudformation", self.localstack_url)

    def moto_client(self, service: str) -> Any:
        """A client of moto's `service` (e.g. ACM for the infrastructure stacks)."""
        return self._client(service, self.moto_url)

    def s3(self) -> Any:
        """Where the payment_fn zip is uploaded: LocalStack's S3 locally (Lambda reads it there)."""
        if self.env is Env.AWS:
            return self._client("s3", None)
        return self._client("s3", self.localstack_url, Config(s3={"addressing_style": "path"}))

    def dynamodb(self) -> Any:
        """DynamoDB where the data stack lives (moto locally)."""
        return self.client("dynamodb")

    def client(self, service: str) -> Any:
        """A client of `service` (locally: moto for DynamoDB/X-Ray, LocalStack for the rest)."""
        if self.env is Env.AWS:
            return self._client(service, None)
        local = self.moto_url if service in MOTO_SERVICES else self.localstack_url
        return self._client(service, local)

    def account_id(self) -> str:
        if self.env is Env.LOCAL:
            return "000000000000"
        return self._client("sts", None).get_caller_identity()["Account"]

    def _client(self, service: str, endpoint: str | None, extra: Config | None = None) -> Any:
        config = Config(retries={"max_attempts": 5, "mode": "standard"})
        if self.env is Env.AWS:
            config = config.merge(Config(ignore_configured_endpoint_urls=True))
        if extra is not None:
            config = config.merge(extra)
        kwargs: dict[str, Any] = {"region_name": self.region, "config": config}
        if endpoint is not None:
            kwargs["endpoint_url"] = endpoint
        if self.env is Env.LOCAL and not self.has_credentials:
            kwargs.update(aws_access_key_id="test", aws_secret_access_key="test")
        return boto3.session.Session().client(service, **kwargs)
