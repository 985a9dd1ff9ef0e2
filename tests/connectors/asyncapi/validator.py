"""The AsyncAPI project's own CLI (`asyncapi validate`), installed once from npm into the cache folder and reused.

`npm ci` installs exactly what `npm/package-lock.json` pins (@asyncapi/cli 4.1.1, the last release that runs on
Node 20, and every dependency by version and integrity hash) into `<cache>/npm/asyncapi-cli-<lock digest>`, without
running any package's install scripts. The first run takes 2-3 minutes (about 1,500 packages, 1.5 GB); later runs
find the folder. Validation needs no network; the CLI's analytics are switched off by a config file of our own (the
CLI reads ASYNCAPI_METRICS_CONFIG_PATH), so it never writes to ~/.asyncapi-analytics nor sends anything.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

LOCK_DIR = Path(__file__).parent / "npm"
INSTALL_TIMEOUT = 900.0
VALIDATE_TIMEOUT = 180.0
ANALYTICS_OFF = {"analyticsEnabled": "false", "infoMessageShown": "true", "userID": "casehub-tests"}


def install_dir(cache_dir: Path) -> Path:
    """Where this lock file's CLI lives: a new lock installs beside the old one, never over it."""
    digest = hashlib.sha256((LOCK_DIR / "package-lock.json").read_bytes()).hexdigest()[:12]
    return cache_dir / "npm" / f"asyncapi-cli-{digest}"


def ensure_cli(cache_dir: Path) -> Path:
    """The `asyncapi` executable, installed with `npm ci` if this lock's folder is not there yet."""
    target = install_dir(cache_dir)
    binary = target / "node_modules" / ".bin" / "asyncapi"
    if binary.exists():
        return binary
    npm = shutil.which("npm")
    if npm is None:
        raise AssertionError("npm is needed to install @asyncapi/cli for the AsyncAPI validation test (Node.js 20+)")
    # install beside the target and rename: a run interrupted half-way, or a second run at the same time, never
    # leaves a folder that looks complete
    partial = target.with_name(f"{target.name}.partial-{uuid.uuid4().hex[:8]}")
    partial.mkdir(parents=True)
    try:
        for name in ("package.json", "package-lock.json"):
            shutil.copy(LOCK_DIR / name, partial / name)
        done = subprocess.run(
            [npm, "ci", "--prefix", str(partial), "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"],
            capture_output=True, text=True, timeout=INSTALL_TIMEOUT, check=False,
        )
        if done.returncode != 0:
            raise AssertionError(f"npm ci of @asyncapi/cli failed ({done.returncode}):\n{done.stderr[-4000:]}")
        try:
            partial.rename(target)
        except OSError:
            if not binary.exists():  # not another run's finished install: a real failure
                raise
    finally:
        if partial.exists():
            shutil.rmtree(partial, ignore_errors=True)
    return binary


@dataclass(frozen=True)
class Validation:
    """What `asyncapi validate` said about one document."""

    returncode: int
    diagnostics: list[dict[str, Any]]
    output: str

    @property
    def errors(self) -> list[dict[str, Any]]:
        return [d for d in self.diagnostics if d.get("severity") == 0]

    @property
    def warnings(self) -> list[dict[str, Any]]:
        return [d for d in self.diagnostics if d.get("severity") == 1]


def validate(binary: Path, document: Path, workdir: Path) -> Validation:
    """Run `asyncapi validate` on ``document``; its diagnostics as JSON (severity 0 error, 1 warning, 2 info)."""
    analytics = workdir / "asyncapi-analytics.json"
    analytics.write_text(json.dumps(ANALYTICS_OFF))
    report = workdir / f"{document.stem}.diagnostics.json"
    env = {**os.environ, "ASYNCAPI_METRICS_CONFIG_PATH": str(analytics), "CI": "true"}
    done = subprocess.run(
        [str(binary), "validate", str(document), "--diagnostics-format", "json", "--save-output", str(report)],
        capture_output=True, text=True, timeout=VALIDATE_TIMEOUT, env=env, cwd=workdir, check=False,
    )
    diagnostics = json.loads(report.read_text()) if report.exists() and report.stat().st_size else []
    return Validation(done.returncode, diagnostics, done.stdout + done.stderr)
