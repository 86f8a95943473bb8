"""Nothing `run` starts outlives it: not after Ctrl-C, not after a SIGKILL of `run`
itself (bun, Vite and granian workers included). Survivors are found by a marker in
their environment, independently of reflex-django's own bookkeeping."""

from __future__ import annotations

import os
import signal
import time

from e2e_support import Stack, wait_for


def test_ctrl_c_stops_everything(demo_root, run_env):
    stack = Stack(demo_root, run_env)
    try:
        stack.start()
        tree = stack.leftovers()
        assert len(tree) >= 5, f"expected Django, Reflex, bun and Vite under run: {tree}"
        assert stack.stop() == 0, stack.log()
        wait_for(lambda: not stack.leftovers(), 5, "every process to end", 0.05)
    finally:
        stack.kill_everything()


def test_sigkill_of_run_leaves_no_descendant(demo_root, run_env):
    stack = Stack(demo_root, run_env)
    try:
        stack.start()
        assert stack.proc
        os.kill(stack.proc.pid, signal.SIGKILL)
        killed = time.monotonic()
        # The goal is about a second; the bound is generous, the time is printed.
        wait_for(lambda: not stack.leftovers(), 30, "no descendant to be left", 0.02)
        print(f"last descendant gone {time.monotonic() - killed:.3f}s after SIGKILL")
    finally:
        stack.kill_everything()
