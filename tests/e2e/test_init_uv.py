"""`reflex-django init` for uv users: with uv on PATH, init makes the project's `.venv`
with uv and installs into it with uv, and `uv run reflex-django check` works in the new
project. `uv run` first syncs the environment to the project's pyproject.toml, so that
file must ask for the reflex-django init installed.

It installs this build's wheel: `scripts/test` (without --quick) builds the wheel into
target/wheels and runs this test after; without the wheel it is skipped.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from e2e_support import binary

WHEELS = Path(__file__).resolve().parents[2] / "target" / "wheels"
WHEEL = next(iter(sorted(WHEELS.glob("reflex_django-*.whl"))), None)
WHEEL_MISSING = f"no reflex-django wheel in {WHEELS}: `scripts/test` (without --quick) builds it and runs this test"

pytestmark = pytest.mark.skipif(WHEEL is None, reason=WHEEL_MISSING)


def run(args: list[str | Path], **kwargs) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, check=False, **kwargs)


def test_init_with_uv_then_uv_run(tmp_path: Path, run_env: dict[str, str]) -> None:
    assert WHEEL is not None
    version = WHEEL.name.split("-")[1]
    # uv from PyPI, in a venv of its own whose bin/ goes first on PATH.
    tools = tmp_path / "tools"
    made = run([sys.executable, "-m", "venv", tools])
    assert made.returncode == 0, made.stderr
    got_uv = run([tools / "bin" / "pip", "install", "-q", "uv"])
    assert got_uv.returncode == 0, got_uv.stdout + got_uv.stderr
    env = {k: v for k, v in run_env.items() if k not in ("VIRTUAL_ENV", "UV_FIND_LINKS")}
    env["PATH"] = f"{tools / 'bin'}:{env['PATH']}"
    env["UV_PYTHON_DOWNLOADS"] = "never"  # the machine's Python, never a download

    # No environment to reuse: init makes `.venv` with uv. pip's setting finds the
    # wheel for uv too (init passes it on as --find-links).
    project = tmp_path / "shop"
    init = run([binary(), "init", project], env={**env, "PIP_FIND_LINKS": str(WHEELS)})
    assert init.returncode == 0, init.stdout + init.stderr
    assert "uv = " in (project / ".venv" / "pyvenv.cfg").read_text(), "the .venv was not made by uv"
    assert (project / "db.sqlite3").is_file()

    # What a uv user types next. uv reads only its own variable for local wheels.
    check = run(["uv", "run", "reflex-django", "check"], cwd=project, env={**env, "UV_FIND_LINKS": str(WHEELS)})
    output = check.stdout + check.stderr
    assert check.returncode == 0, output
    assert "System check identified no issues" in output, output
    installed = run(
        [
            project / ".venv" / "bin" / "python",
            "-c",
            "import importlib.metadata as m; print(m.version('reflex-django'))",
        ]
    )
    assert installed.stdout.strip() == version, "uv run swapped reflex-django for another release"
