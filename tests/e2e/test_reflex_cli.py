"""`reflex django <command>`: Reflex's own CLI, with the start-up hook of the test venv
(`reflex_django_hook.pth`, installed by scripts/test), runs `reflex-django <command>`.

Every check compares with the binary run directly, in a small Django project made
in a temporary directory (startproject, an rxconfig.py, no frontend).
"""

from __future__ import annotations

import os
import pty
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from e2e_support import binary

PYTHON = os.environ.get("REFLEX_DJANGO_TEST_PYTHON", sys.executable)
BIN = Path(PYTHON).parent
REFLEX = [str(BIN / "reflex")]
REFLEX_DJANGO = [str(BIN / "reflex"), "django"]


@pytest.fixture(scope="module")
def hook_installed() -> None:
    site = subprocess.run(
        [PYTHON, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    if not (Path(site) / "reflex_django_hook.pth").exists():
        pytest.fail(f"reflex_django_hook.pth is not in {site}: run the suite with scripts/test")
    assert (BIN / "reflex").exists(), f"no reflex script in {BIN}"


@pytest.fixture(scope="module")
def project(tmp_path_factory, run_env, hook_installed) -> Path:
    """A Django project (manage.py, SQLite) with an rxconfig.py, not migrated yet."""
    root = tmp_path_factory.mktemp("reflex-cli") / "proj"
    root.mkdir()
    subprocess.run([PYTHON, "-m", "django", "startproject", "mysite", str(root)], check=True, env=run_env)
    (root / "rxconfig.py").write_text('import reflex as rx\n\nconfig = rx.Config(app_name="mysite")\n')
    return root


def run(cmd: list[str], cwd: Path, env: dict[str, str], **kw) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False, **kw)


@pytest.mark.parametrize("reflex", [REFLEX, [PYTHON, "-m", "reflex"]], ids=["script", "python-m"])
def test_reflex_help_lists_django_beside_reflexs_own_commands(reflex, hook_installed, run_env, tmp_path):
    out = run([*reflex, "--help"], tmp_path, run_env)
    assert out.returncode == 0, out.stderr
    commands = re.findall(r"^  (\w+)  ", out.stdout, re.MULTILINE)
    assert "django" in commands, out.stdout
    assert {"init", "run", "export", "db"} <= set(commands), out.stdout
    own = run([*reflex, "init", "--help"], tmp_path, run_env)
    assert own.returncode == 0 and "Initialize a new Reflex app" in own.stdout, own.stdout + own.stderr


def test_reflex_django_migrate_migrates(project, run_env):
    out = run([*REFLEX_DJANGO, "migrate"], project, run_env)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "Applying auth.0001_initial... OK" in out.stdout
    with sqlite3.connect(project / "db.sqlite3") as db:
        tables = {row[0] for row in db.execute("select name from sqlite_master where type='table'")}
    assert {"django_migrations", "auth_user", "django_session"} <= tables, tables
    # once migrated, both ways print the same
    ours, theirs = (run([*cmd, "showmigrations", "auth"], project, run_env) for cmd in (REFLEX_DJANGO, [binary()]))
    assert (ours.returncode, ours.stdout, ours.stderr) == (theirs.returncode, theirs.stdout, theirs.stderr)
    assert "[X] 0001_initial" in ours.stdout


def test_a_failing_command_exits_like_the_binary(project, run_env):
    direct = run([binary(), "nosuchcommand"], project, run_env)
    assert direct.returncode != 0
    main_call = "import sys; from reflex_django.cli import main; sys.argv[1:] = ['nosuchcommand']; main()"
    via_module = [PYTHON, "-c", main_call]
    for cmd in ([*REFLEX_DJANGO, "nosuchcommand"], via_module):
        out = run(cmd, project, run_env)
        assert (out.returncode, out.stdout, out.stderr) == (direct.returncode, direct.stdout, direct.stderr), cmd


def test_the_command_gets_the_process_terminal_stdin_and_environment(project, run_env):
    """exec all the way: manage.py runs in the very process started as `reflex`, on its
    terminal, with the environment `reflex-django` gives it (Reflex's CLI marks its own
    environment; that mark must not leak)."""
    probe = (
        "import os, sys; print(os.getpid(), sys.stdin.isatty(), sys.stdout.isatty()); "
        "print(sorted(k for k in os.environ if k.startswith('REFLEX')))"
    )
    leader, follower = pty.openpty()
    try:
        proc = subprocess.Popen(
            [*REFLEX_DJANGO, "shell", "-c", probe],
            cwd=project,
            env=run_env,
            stdin=follower,
            stdout=follower,
            stderr=subprocess.PIPE,
        )
        os.close(follower)
        follower = -1
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # EIO: the terminal's last writer is gone
                break
            if not chunk:
                break
            chunks.append(chunk)
        assert proc.wait(timeout=60) == 0, proc.stderr.read()
    finally:
        os.close(leader)
        if follower != -1:
            os.close(follower)
    text = re.sub(r"\x1b\[[0-9;]*m", "", b"".join(chunks).decode())  # Django colours a terminal
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    assert f"{proc.pid} True True" in lines, lines
    direct = run([binary(), "shell", "-c", probe], project, run_env)
    assert direct.stdout.splitlines()[-1] in lines, (direct.stdout, lines)

    piped = run([*REFLEX_DJANGO, "shell"], project, run_env, input="print(6 * 7)\n")
    assert piped.returncode == 0 and "42" in piped.stdout.split(), piped.stdout + piped.stderr


def test_reflex_django_init_is_our_init(hook_installed, run_env, tmp_path):
    ours, theirs = (run([*cmd, "init", "--help"], tmp_path, run_env) for cmd in (REFLEX_DJANGO, [binary()]))
    assert ours.returncode == theirs.returncode == 0
    assert ours.stdout == theirs.stdout and "--no-install" in ours.stdout

    made = {}
    for name, cmd in (("ours", REFLEX_DJANGO), ("theirs", [binary()])):
        target = tmp_path / name / "shop"
        out = run([*cmd, "init", str(target), "--no-install"], tmp_path, run_env)
        assert out.returncode == 0, out.stdout + out.stderr
        made[name] = sorted(str(p.relative_to(target)) for p in target.rglob("*"))
    assert made["ours"] == made["theirs"] and "manage.py" in made["ours"], made


def test_help_without_a_command(hook_installed, run_env, tmp_path):
    for args, code, stream in (([], 2, "stderr"), (["--help"], 0, "stdout")):
        ours = run([*REFLEX_DJANGO, *args], tmp_path, run_env)
        theirs = run([binary(), *args], tmp_path, run_env)
        assert ours.returncode == theirs.returncode == code, (args, ours.stderr)
        text = getattr(ours, stream)
        assert "`reflex django <command> [args...]` runs `reflex-django <command> [args...]`" in text
        assert text.endswith(getattr(theirs, stream)), text


def test_unrelated_python_processes_load_nothing(hook_installed, run_env, tmp_path):
    probe = "import sys; print(*(m in sys.modules for m in ('reflex', 'reflex_django', '_reflex_django_hook')))"
    out = run([PYTHON, "-c", probe], tmp_path, run_env)
    assert out.stdout.split() == ["False", "False", "False"], out.stdout + out.stderr
    # `reflex` waits for Reflex's CLI module: the hook itself imports neither package
    hooked = run(
        [PYTHON, "-c", f"import sys; sys.argv = ['reflex']; import _reflex_django_hook; {probe}"],
        tmp_path,
        run_env,
    )
    assert hooked.stdout.split() == ["False", "False", "True"], hooked.stdout + hooked.stderr


def test_python_names_of_the_original_plugin(hook_installed, run_env, tmp_path):
    script = """
import sys
import reflex_django.cli as cli, reflex_django.init_project as init_project
assert 'click' not in sys.modules, 'importing reflex_django.cli must not import click'
import click
from reflex_django.cli import DjangoCliGroup, django_cli, django_cli_group, django_init, main
from reflex_django.cli import register_django_cli_group_if_needed
from reflex_django.init_project import main_argv_init, reflex_django_init_entry, run_reflex_django_init
assert isinstance(django_cli_group, DjangoCliGroup) and django_cli is django_cli_group
assert isinstance(django_cli_group, click.Group) and django_init.name == 'init'
group = click.Group('reflex')
register_django_cli_group_if_needed(group)
register_django_cli_group_if_needed(group)
assert list(group.commands) == ['django'] and group.commands['django'] is django_cli_group
register_django_cli_group_if_needed()  # Reflex's own group, imported on demand
from reflex.reflex import cli as reflex_cli
assert reflex_cli.commands['django'] is django_cli_group
print('ok')
"""
    out = run([PYTHON, "-c", script], tmp_path, run_env)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stdout + out.stderr
