"""What the stack deployment tests share: the local target and one packaged payment_fn zip."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from flashsale_stacks.targets import Env, Target

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def target(local_aws: dict[str, str]) -> Target:
    """The local endpoints (AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_DYNAMODB) the CLI deploys to."""
    return Target.from_environ(Env.LOCAL)


@pytest.fixture(scope="session")
def code_zip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("payment_fn") / "payment_fn.zip"
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "package_payment_fn.py"), "--out", str(out)],
        check=True,
        capture_output=True,
    )
    return out
