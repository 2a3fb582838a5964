#!/usr/bin/env bash
# Builds DSO (Release) and installs `docker-dso` as a Docker CLI plugin, so `docker dso …` works.
#   scripts/install.sh            user install: ~/.local/lib/dso, linked from ${DOCKER_CONFIG:-~/.docker}/cli-plugins
#   scripts/install.sh --system   system install: /usr/local/lib/dso, linked from /usr/local/lib/docker/cli-plugins (root)
# Running it again replaces what changed and says what it did.
# Piped from the repository (curl -fsSL …/main/scripts/install.sh | bash, as the original project's
# README writes it), there is no checkout to build: it runs the latest release's installer instead
# (packaging/release/install.sh; DSO_RELEASE_URL says where the release is), checked against the
# release's SHA256SUMS.
set -euo pipefail
if [ -z "${BASH_SOURCE[0]:-}" ] || [ ! -f "$(dirname "${BASH_SOURCE[0]}")/lib.sh" ]; then
  base="${DSO_RELEASE_URL:-https://github.com/docker-secret-operator/dso/releases/latest/download}"
  base="${base%/}"
  work=$(mktemp -d "${TMPDIR:-/tmp}/dso-install.XXXXXX")
  trap 'rm -rf "$work"' EXIT
  curl -fsSL --proto '=https,http' -o "$work/install.sh" "$base/install.sh" && curl -fsSL --proto '=https,http' -o "$work/SHA256SUMS" "$base/SHA256SUMS" \
    || { echo "install.sh: cannot download the release's installer from $base" >&2; exit 1; }
  (cd "$work" && grep ' install.sh$' SHA256SUMS | sha256sum -c --status -) \
    || { echo "install.sh: the release's install.sh does not match its checksum in SHA256SUMS: not run" >&2; exit 1; }
  bash "$work/install.sh" "$@"
  exit $?
fi
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

mode=user
for arg in "$@"; do
  case "$arg" in
    --system) mode=system ;;
    -h|--help) sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option '$arg' (use --system or nothing)" ;;
  esac
done
[ "$mode" = user ] || [ "$(id -u)" -eq 0 ] || die "--system installs into /usr/local and needs root (sudo $0 --system)"

ensure_dotnet
# The native executables (NativeAOT): docker-dso, dso-agent, dso-init, and libsodium.so beside them;
# then the release's installer lays them out as it does a release's.
bash "$DSO_ROOT/scripts/build-native.sh"
bash "$DSO_ROOT/packaging/release/install.sh" --from "$DSO_ROOT/artifacts/native" "--$mode"
