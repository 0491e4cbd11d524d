#!/usr/bin/env bash
# Installs the flask-smorest test service's packages (requirements.txt) into tests/smorest/.venv.
set -euo pipefail
exec bash "$(dirname "$0")/../venv-install.sh" "$(dirname "$0")"
