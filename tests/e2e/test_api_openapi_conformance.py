"""The OpenAPI document states every rule the live API enforces: schemathesis, run from outside
against the `make up` stack with every check (`--checks all`: no 5xx, every schema-valid request
accepted, every schema-violating one rejected, responses as documented), stateful phase included,
finds nothing.

Bounded and repeatable: SCHEMATHESIS_EXAMPLES cases per operation and phase (default 25),
deterministic generation (no random seed: the same cases every run), one worker. No admin key is
sent, so the run cannot change the catalog other tests order from.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from flashsale_kit.api import Api

EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "25"))
CLI = Path(sys.executable).with_name("schemathesis")


@pytest.mark.timeout(900)
def test_schemathesis_finds_no_failure_with_every_check(tmp_path: Path) -> None:
    api = Api()
    assert api.ready(), f"the API at {api.url} is not ready: start it with `make up`"
    api.close()
    command = [
        str(CLI),
        "run",
        f"{api.url}/openapi.json",
        "--checks",
        "all",
        "--max-examples",
        str(EXAMPLES),
        "--generation-deterministic",
        "--workers",
        "1",
        "--request-timeout",
        "20",
        "--no-color",
        "--report",
        "junit",
        "--report-dir",
        str(tmp_path),
    ]
    # in tmp_path: schemathesis keeps its state in .schemathesis/ under the working directory
    result = subprocess.run(command, capture_output=True, text=True, timeout=840, cwd=tmp_path)
    summary = result.stdout[-6000:]
    print(summary)
    assert result.returncode == 0, summary
    assert " passed" in summary and "failures" not in summary.lower(), summary
