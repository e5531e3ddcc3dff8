"""Runs the scripts the way the Worker does: a separate Python process, the Job in argv[1]."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest

SCRIPTS = Path(__file__).resolve().parent.parent
EXAMPLES = SCRIPTS.parent / "examples"


@dataclass
class Run:
    code: int
    stdout: List[str]
    stderr: str
    seconds: float

    @property
    def outcome(self) -> Dict[str, Any]:
        lines = [line for line in self.stdout if line.strip()]
        assert lines, f"no stdout; stderr:\n{self.stderr}"
        return json.loads(lines[-1], parse_constant=_reject)


def _reject(token: str):
    raise AssertionError(f"non-finite number {token} in the Outcome")


def run_script(script: str, job: Any, *, via: str = "argv", env: Optional[Dict[str, str]] = None,
               timeout: float = 600) -> Run:
    text = job if isinstance(job, str) else json.dumps(job)
    environment = {k: v for k, v in os.environ.items()
                   if k not in ("JOB_FILE", "DATA_DIR", "DATA_FILE", "INPUT_DIR", "OUTPUT_DIR")}
    environment.update(env or {})
    args = [sys.executable, "-u", str(SCRIPTS / script)]
    options: Dict[str, Any] = {"stdin": subprocess.DEVNULL}
    if via == "argv":
        args.append(text)
    elif via == "stdin":
        options = {"input": text}
    elif via == "file":
        job_file = Path(tempfile.mkdtemp()) / "job.json"
        job_file.write_text(text)
        environment["JOB_FILE"] = str(job_file)
    started = time.monotonic()
    completed = subprocess.run(args, capture_output=True, text=True, env=environment, timeout=timeout, **options)
    return Run(completed.returncode, completed.stdout.splitlines(), completed.stderr, time.monotonic() - started)


def example(name: str, **overrides: Any) -> Dict[str, Any]:
    job = json.loads((EXAMPLES / name).read_text())
    job["_id"] = "job-" + name.split(".")[0]
    job.update(overrides)
    return job


@pytest.fixture
def heavy_imports_poisoned(tmp_path: Path) -> Dict[str, str]:
    """A PYTHONPATH under which importing numpy, pandas, sklearn, torch or joblib fails loudly: a script that
    still answers correctly has not imported them before rejecting its input."""
    poison = tmp_path / "poison"
    poison.mkdir()
    for module in ("numpy", "pandas", "sklearn", "torch", "joblib"):
        (poison / f"{module}.py").write_text(
            f"raise ImportError('{module} imported before the input was validated')\n")
    return {"PYTHONPATH": str(poison)}
