"""The Python package runs the binary that ships in the same wheel."""

import subprocess
import sys


def test_python_m_reflex_django_runs_the_binary():
    out = subprocess.run(
        [sys.executable, "-m", "reflex_django", "--version"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.startswith("reflex-django ")
