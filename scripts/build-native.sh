#!/usr/bin/env bash
# Publishes the NativeAOT static executables: dso-init (the in-container launcher) and, with
# --with-testapp, the test application. Needs clang and lld (installed with apt when missing).
#   scripts/build-native.sh [--with-testapp]   → artifacts/native/
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$DSO_ROOT"
ensure_dotnet
ensure_packages clang lld

out="$DSO_ROOT/artifacts/native"
mkdir -p "$out"
# Published into a staging directory, then renamed into place: a test (or container) using the
# current binary while this runs sees the old file or the new one, never a missing or half-copied one.
publish() {
  local staging
  staging=$(mktemp -d "$out/.staging.XXXXXX")
  dotnet publish "$1" -c Release -r linux-x64 -o "$staging" -p:DebugType=none -p:StripSymbols=true \
    -nologo -v quiet -clp:ErrorsOnly
  rm -f "$staging"/*.xml "$staging"/*.dbg
  local file
  for file in "$staging"/*; do
    mv -f "$file" "$out/"
  done
  rmdir "$staging"
}
say "building dso-init (NativeAOT, static)"
publish src/Dso.Launcher
if [ "${1:-}" = "--with-testapp" ]; then
  say "building the test application (NativeAOT, static)"
  publish tests/Dso.TestApp
fi
