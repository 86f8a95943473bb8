"""A second Django process on the tests' database, as `manage.py shell` would be.

`python other_process.py` sets Django up with the tests' settings (RDJ_TEST_DB comes
from the environment), then runs each JSON-encoded code block read from stdin and
answers one JSON line: {"ok": true, "value": <repr of `result`>} or the traceback.
The `OtherProcess` class drives it from a test.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import traceback
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


class OtherProcess:
    """The test side: `run(code)` executes `code` there and returns `result`'s repr."""

    def __init__(self, env: dict[str, str] | None = None) -> None:
        env = {**os.environ, **(env or {}), "PYTHONPATH": os.pathsep.join([str(HERE.parent), str(HERE)])}
        self._proc = subprocess.Popen(
            [sys.executable, str(Path(__file__))],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
            text=True,
        )
        self.run("result = 'ready'")

    def run(self, code: str) -> Any:
        assert self._proc.stdin is not None and self._proc.stdout is not None
        self._proc.stdin.write(json.dumps(code) + "\n")
        self._proc.stdin.flush()
        line = self._proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the other process ended (exit status {self._proc.wait()})")
        answer = json.loads(line)
        if not answer["ok"]:
            raise RuntimeError("in the other process:\n" + answer["error"])
        return answer["value"]

    def close(self) -> None:
        if self._proc.stdin is not None:
            self._proc.stdin.close()
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()


def _serve() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rdj_testproject.settings")
    import django

    django.setup()
    namespace: dict[str, Any] = {}
    for line in sys.stdin:
        try:
            namespace.pop("result", None)
            exec(json.loads(line), namespace)
            answer = {"ok": True, "value": repr(namespace.get("result"))}
        except Exception:
            answer = {"ok": False, "error": traceback.format_exc()}
        print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    _serve()
