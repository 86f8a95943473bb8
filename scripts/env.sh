# shellcheck shell=bash
# Source this file to get the shared test/dev environment, created on first use:
#   $RDJ_ENV/venv      a Python >= 3.12 venv with tests/requirements.txt
#   ~/.cache/reflex-django/bun   bun from the npm registry (Reflex cannot download it
#                      offline); `reflex-django run` finds it there in any shell
#   $RDJ_ENV/reflex    REFLEX_DIR, Reflex's own data directory
# RDJ_ENV defaults to target/test-env inside the repository.

_rdj_repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export RDJ_ENV="${RDJ_ENV:-$_rdj_repo/target/test-env}"
mkdir -p "$RDJ_ENV"

_rdj_find_python() {
  local c v
  for c in python3.13 python3.12; do
    if command -v "$c" >/dev/null 2>&1 && "$c" -c 'import sys' >/dev/null 2>&1; then
      command -v "$c"; return 0
    fi
  done
  if command -v pyenv >/dev/null 2>&1; then
    for v in "$(pyenv root)"/versions/3.13*/bin/python3.13 "$(pyenv root)"/versions/3.12*/bin/python3.12; do
      [[ -x $v ]] && { echo "$v"; return 0; }
    done
  fi
  for c in python3 python; do
    if command -v "$c" >/dev/null 2>&1 &&
       "$c" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then
      command -v "$c"; return 0
    fi
  done
  echo "error: no Python >= 3.12 found (tried python3.13, python3.12, pyenv, python3)" >&2
  echo "hint: install Python 3.12+ (e.g. apt-get install python3.12 python3.12-venv) or put it on PATH" >&2
  return 1
}

if [[ ! -x $RDJ_ENV/venv/bin/python ]]; then
  _rdj_py="$(_rdj_find_python)" || return 1
  echo "==> creating venv with $_rdj_py" >&2
  "$_rdj_py" -m venv "$RDJ_ENV/venv" || return 1
fi
if [[ ! -f $RDJ_ENV/venv/.requirements-done ]] ||
   ! cmp -s "$_rdj_repo/tests/requirements.txt" "$RDJ_ENV/venv/.requirements-done"; then
  echo "==> installing test requirements" >&2
  "$RDJ_ENV/venv/bin/python" -m pip install -q --upgrade pip >&2 &&
  "$RDJ_ENV/venv/bin/python" -m pip install -q -r "$_rdj_repo/tests/requirements.txt" >&2 || return 1
  cp "$_rdj_repo/tests/requirements.txt" "$RDJ_ENV/venv/.requirements-done"
fi
_rdj_bun="${XDG_CACHE_HOME:-$HOME/.cache}/reflex-django/bun"
if [[ ! -x $_rdj_bun/node_modules/.bin/bun ]]; then
  echo "==> installing bun from the npm registry" >&2
  npm install --silent --prefix "$_rdj_bun" bun@1.4.4 >&2 || return 1
fi

export PATH="$_rdj_bun/node_modules/.bin:$RDJ_ENV/venv/bin:$PATH"
export REFLEX_DIR="$RDJ_ENV/reflex"
export REFLEX_CHECK_LATEST_VERSION=0
export REFLEX_TELEMETRY_ENABLED=false
export REFLEX_DJANGO_TEST_PYTHON="$RDJ_ENV/venv/bin/python"
unset VIRTUAL_ENV
