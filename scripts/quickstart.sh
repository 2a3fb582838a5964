#!/usr/bin/env bash
# The quickstart: installs what DSO needs on this machine, installs the `docker dso` plugin and
# shows it working. Safe to run again.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ensure_dotnet
ensure_packages docker.io docker-compose busybox-static
ensure_engine
bash "$DSO_ROOT/scripts/install.sh"

say "docker dso version"
docker dso version
