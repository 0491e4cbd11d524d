#!/usr/bin/env bash
# Installs the Django test service's packages (requirements.txt) into tests/django/.venv.
set -euo pipefail
exec bash "$(dirname "$0")/../venv-install.sh" "$(dirname "$0")"
