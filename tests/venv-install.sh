#!/usr/bin/env bash
# Installs a Python test service's packages (DIR/requirements.txt) into DIR/.venv: the one
# script behind tests/django/install.sh and tests/smorest/install.sh. Usage: venv-install.sh DIR
# Idempotent: a second run with unchanged requirements only compares a stamp and exits.
# Needs python3 (3.10+); uses `python3 -m venv`, else virtualenv (installed with pip --user).
set -euo pipefail
cd "${1:?usage: venv-install.sh DIR}"

venv=.venv
stamp="$venv/.requirements"
python=${PYTHON:-python3}

if [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && cmp -s requirements.txt "$stamp"; then
    exit 0
fi

if [ ! -x "$venv/bin/python" ]; then
    rm -rf "$venv"
    # Debian's python3 may lack ensurepip (package python3-venv): fall back to virtualenv.
    if ! "$python" -m venv "$venv" >/dev/null 2>&1; then
        rm -rf "$venv"
        if ! "$python" -m virtualenv --version >/dev/null 2>&1; then
            "$python" -m pip install --quiet --user --no-warn-script-location virtualenv ||
                "$python" -m pip install --quiet --user --no-warn-script-location --break-system-packages virtualenv
        fi
        "$python" -m virtualenv --quiet "$venv"
    fi
fi

"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input -r requirements.txt
cp requirements.txt "$stamp"
