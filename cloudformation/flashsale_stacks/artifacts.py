"""Uploading the payment_fn zip where the Lambda stack reads it (like `aws cloudformation package`).

The key is content-addressed (`payment_fn/<sha256>.zip`): the same zip is uploaded once and gives
the same CodeS3Key, so redeploying unchanged code is an empty change set.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError


def code_key(zip_path: Path, prefix: str = "payment_fn") -> str:
    digest = hashlib.sha256(zip_path.read_bytes()).hexdigest()
    return f"{prefix}/{digest}.zip"


def default_bucket(env_name: str, account_id: str, region: str, local: bool) -> str:
    """`{env}-artifacts` locally; globally unique on AWS."""
    if local:
        return f"{env_name}-artifacts"
    return f"{env_name}-flashsale-artifacts-{account_id}-{region}"


def ensure_bucket(s3: Any, bucket: str, region: str, private: bool) -> None:
    try:
        s3.head_bucket(Bucket=bucket)
        return
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") not in ("404", "NoSuchBucket", "NotFound"):
            raise
    kwargs: dict[str, Any] = {"Bucket": bucket}
    if region != "us-east-1":
        kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
    s3.create_bucket(**kwargs)
    if private:
        s3.put_public_access_block(
            Bucket=bucket,
            PublicAccessBlockConfiguration={
                "BlockPublicAcls": True,
                "IgnorePublicAcls": True,
                "BlockPublicPolicy": True,
                "RestrictPublicBuckets": True,
            },
        )


def upload_code(s3: Any, bucket: str, zip_path: Path) -> str:
    """Upload the zip unless that exact content is already there; return its key."""
    key = code_key(zip_path)
    try:
        s3.head_object(Bucket=bucket, Key=key)
        return key
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") not in ("404", "NoSuchKey", "NotFound"):
            raise
    s3.put_object(Bucket=bucket, Key=key, Body=zip_path.read_bytes())
    return key
