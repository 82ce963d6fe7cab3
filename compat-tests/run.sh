#!/usr/bin/env bash
# Compatibility tests: unmodified discord.py and discord.js bots against a fresh accord server.
#
#   bash compat-tests/run.sh [extra pytest arguments]
#
# On a fresh machine it installs everything it needs (a Python venv in compat-tests/.venv,
# discord.js in compat-tests/js/node_modules) and builds the server; on later runs it skips
# every install whose pinned versions are already in place. Exit code = pytest's.
#
# Environment:
#   ACCORD_BIN              server binary to test (default: `cargo build`, then target/debug/accord)
#   PYTHON                  interpreter for the venv (default: python3)
#   ACCORD_COMPAT_TIMEOUT   seconds per test (default 60)
#   ACCORD_COMPAT_BOT_LOG   bot library log level, DEBUG (default) or INFO
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
VENV="$HERE/.venv"
JS="$HERE/js"

say() { printf '[compat-tests] %s\n' "$*" >&2; }

hash_files() { cat "$@" | sha256sum | cut -d' ' -f1; }

# --- Python: venv with the pinned packages -------------------------------------------------
PY_STAMP="$VENV/.accord-requirements.sha256"
py_want="$(hash_files "$HERE/requirements.txt")"
if [[ -x "$VENV/bin/python" && -f "$PY_STAMP" && "$(cat "$PY_STAMP")" == "$py_want" ]] \
    && "$VENV/bin/python" -c 'import importlib.metadata as m, sys; sys.exit(m.version("discord.py") != "2.7.1")' 2>/dev/null; then
    say "python venv up to date ($VENV)"
else
    say "creating python venv in $VENV"
    "${PYTHON:-python3}" -m venv --clear "$VENV"
    "$VENV/bin/python" -m pip install --disable-pip-version-check -q -r "$HERE/requirements.txt"
    echo "$py_want" > "$PY_STAMP"
fi

# --- JavaScript: discord.js pinned by package.json / package-lock.json ---------------------
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    say "node/npm not found; installing Debian's nodejs and npm"
    if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
    else
        say "cannot install Node.js here: install Node.js >= 18 with npm and rerun"
        exit 2
    fi
fi
JS_STAMP="$JS/node_modules/.accord-lock.sha256"
js_inputs=("$JS/package.json")
[[ -f "$JS/package-lock.json" ]] && js_inputs+=("$JS/package-lock.json")
js_want="$(hash_files "${js_inputs[@]}")"
if [[ -f "$JS_STAMP" && "$(cat "$JS_STAMP")" == "$js_want" && -f "$JS/node_modules/discord.js/package.json" ]]; then
    say "discord.js up to date ($JS/node_modules)"
else
    if [[ -f "$JS/package-lock.json" ]]; then
        say "npm ci in $JS"
        (cd "$JS" && npm ci --no-audit --no-fund --loglevel=error)
    else
        say "npm install in $JS (no lockfile yet: commit the package-lock.json it writes)"
        (cd "$JS" && npm install --no-audit --no-fund --loglevel=error)
    fi
    # Hash again: `npm install` may just have written the lockfile.
    js_inputs=("$JS/package.json")
    [[ -f "$JS/package-lock.json" ]] && js_inputs+=("$JS/package-lock.json")
    hash_files "${js_inputs[@]}" > "$JS_STAMP"
fi
js_version="$(node -p "require('$JS/node_modules/discord.js/package.json').version")"
if [[ "$js_version" != "14.28.1" ]]; then
    say "expected discord.js 14.28.1 in $JS/node_modules, found $js_version"
    exit 2
fi

# --- The server ----------------------------------------------------------------------------
if [[ -n "${ACCORD_BIN:-}" && "$ACCORD_BIN" != /* ]]; then
    export ACCORD_BIN="$PWD/$ACCORD_BIN"   # pytest runs from compat-tests/
fi
if [[ -z "${ACCORD_BIN:-}" ]]; then
    say "cargo build in $ROOT"
    (cd "$ROOT" && cargo build)
    export ACCORD_BIN="$ROOT/target/debug/accord"
fi
if [[ ! -x "$ACCORD_BIN" ]]; then
    say "server binary $ACCORD_BIN is missing or not executable"
    exit 2
fi
say "server: $ACCORD_BIN"

# --- Tests ---------------------------------------------------------------------------------
cd "$HERE"
set +e
# cwd is compat-tests/ (testpaths = .): no arguments runs every test, `test_x.py` only that file.
"$VENV/bin/python" -m pytest "$@"
status=$?
set -e
exit "$status"
