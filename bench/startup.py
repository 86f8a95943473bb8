"""What does the `reflex django` start-up hook cost a Python process that never uses it?

Makes throwaway venvs: one without reflex-django, one with the package but without
`reflex_django_hook.pth`, one with both; runs `python -c pass` in each, interleaved,
and prints the median wall time of each, the differences in ms and the ratios (goal:
the hooked venv within 5 ms of the bare one). Wall times of a 20 ms process are
noisy on a busy machine, so it also prints the median time Python itself reports for
`site` (`-X importtime`), which is where .pth files are processed.

    python bench/startup.py [--runs N] [--wheel PATH]

Without --wheel the package is installed as scripts/test does it (python/ on sys.path
through a .pth); with --wheel, that wheel is installed with pip.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
HOOK = "reflex_django_hook.pth"


def make_venv(path: Path, package: bool, hook: bool, wheel: str | None) -> Path:
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True)
    python = path / "bin" / "python"
    site = Path(
        subprocess.run(
            [python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    if package and wheel:
        subprocess.run(
            [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps", wheel],
            check=True,
        )
        if not (site / HOOK).exists():
            sys.exit(f"error: the wheel put no {HOOK} into site-packages")
        if not hook:
            (site / HOOK).unlink()
    elif package:
        (site / "reflex_django_dev.pth").write_text(f"{REPO / 'python'}\n")
        if hook:
            shutil.copy(REPO / "python" / HOOK, site / HOOK)
    return python


def site_import_us(python: Path, env: dict[str, str]) -> int:
    """`site`'s cumulative import time in µs, as `-X importtime` reports it."""
    command = [python, "-X", "importtime", "-c", "pass"]
    err = subprocess.run(command, env=env, capture_output=True, text=True, check=True).stderr
    line = next(line for line in err.splitlines() if line.endswith("| site"))
    return int(line.split("|")[1])


def timed(python: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run([python, "-c", "pass"], env=env, check=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--wheel", help="install this reflex-django wheel instead of python/")
    args = parser.parse_args()
    wheel = args.wheel and os.path.abspath(args.wheel)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}

    with tempfile.TemporaryDirectory(prefix="rdj-startup-") as tmp:
        venvs = {
            "bare venv": make_venv(Path(tmp) / "bare", package=False, hook=False, wheel=wheel),
            "package, no hook": make_venv(Path(tmp) / "nohook", package=True, hook=False, wheel=wheel),
            "package + hook": make_venv(Path(tmp) / "hook", package=True, hook=True, wheel=wheel),
        }
        probe = "import sys; print('reflex_django' in sys.modules or '_reflex_django_hook' in sys.modules)"
        for name, python in venvs.items():
            loaded = subprocess.run([python, "-c", probe], env=env, capture_output=True, text=True, check=True)
            if loaded.stdout.strip() != "False":
                sys.exit(f"error: `python -c` in the {name} loaded reflex-django at start-up")
        times: dict[str, list[float]] = {name: [] for name in venvs}
        site_us: dict[str, list[int]] = {name: [] for name in venvs}
        for python in venvs.values():  # warm the file cache and the .pyc files
            for _ in range(5):
                timed(python, env)
        for _ in range(args.runs):
            for name, python in venvs.items():
                times[name].append(timed(python, env))
                site_us[name].append(site_import_us(python, env))

    medians = {name: statistics.median(t) * 1000 for name, t in times.items()}
    sites = {name: statistics.median(t) / 1000 for name, t in site_us.items()}
    source = f"wheel {Path(wheel).name}" if wheel else "python/ via a .pth, as scripts/test"
    print(f"`python -c pass`, median of {args.runs} runs each (package: {source})")
    print(f"  {'':<18} {'wall':>9}  {'site import':>11}")
    for name in venvs:
        print(f"  {name:<18} {medians[name]:6.2f} ms  {sites[name]:8.2f} ms")
    bare, nohook, hooked = medians.values()
    s_bare, s_nohook, s_hooked = sites.values()
    print(
        f"package + hook vs bare:   wall {hooked - bare:+.2f} ms (ratio {hooked / bare:.3f}), "
        f"site {s_hooked - s_bare:+.2f} ms  (goal: <= +5 ms)"
    )
    print(
        f"hook alone (vs package):  wall {hooked - nohook:+.2f} ms (ratio {hooked / nohook:.3f}), "
        f"site {s_hooked - s_nohook:+.2f} ms"
    )


if __name__ == "__main__":
    main()
