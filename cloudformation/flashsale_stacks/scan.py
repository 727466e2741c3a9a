"""checkov over every rendered template, as the field scans IaC.

checkov runs from its own venv (.venv-checkov, `make install`): it pins a boto3 the services
cannot share. A check that does not apply is skipped in the resource's Metadata with its reason
(common.checkov_skip); the scan passes with 0 failed checks and no skip without a reason.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from flashsale_stacks.render import write_templates

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"
CHECKOV_ARGS = ("--framework", "cloudformation", "--output", "json", "--compact")
CHECKOV_ARGS += ("--skip-download",)  # offline: no fetch of its online guideline map


@dataclass
class ScanResult:
    passed: int = 0
    skipped: int = 0
    failed: list[str] = field(default_factory=list)  # "stack: CKV_ID resource (name)"
    unexplained_skips: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Nothing failed, every skip explained, and something was scanned at all."""
        return self.passed > 0 and not self.failed and not self.unexplained_skips


def checkov_path() -> Path:
    return Path(os.environ.get("CHECKOV", DEFAULT_CHECKOV))


def scan(bodies: Mapping[str, str], checkov: Path | None = None) -> ScanResult:
    """Run checkov over the templates (offline: no download of its online guideline map)."""
    checkov = checkov or checkov_path()
    if not checkov.exists():
        raise FileNotFoundError(f"{checkov} is missing: `make install` creates .venv-checkov")
    with tempfile.TemporaryDirectory() as folder:
        write_templates(dict(bodies), Path(folder))
        completed = subprocess.run(
            [str(checkov), "-d", folder, *CHECKOV_ARGS],
            capture_output=True,
            text=True,
            timeout=600,
            env={**os.environ, "BC_SKIP_MAPPING": "TRUE"},
        )
    if completed.returncode not in (0, 1):  # 1: failed checks
        raise RuntimeError(f"checkov exited {completed.returncode}: {completed.stderr[-2000:]}")
    return parse(json.loads(completed.stdout or "{}"))


def parse(report: dict | list) -> ScanResult:
    """checkov's JSON report (one dict, or a list of one per framework) -> counts and findings."""
    result = ScanResult()
    for part in report if isinstance(report, list) else [report]:
        checks = part.get("results", {})
        result.passed += len(checks.get("passed_checks", []))
        for check in checks.get("failed_checks", []):
            result.failed.append(_describe(check))
        for check in checks.get("skipped_checks", []):
            result.skipped += 1
            if not (check.get("check_result", {}).get("suppress_comment") or "").strip():
                result.unexplained_skips.append(_describe(check))
    return result


def _describe(check: dict) -> str:
    stack = Path(check.get("file_path", "?")).stem
    return f"{stack}: {check.get('check_id')} {check.get('resource')} ({check.get('check_name')})"
