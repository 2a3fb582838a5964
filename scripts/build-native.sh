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
publish() {
  dotnet publish "$1" -c Release -r linux-x64 -o "$out" -p:DebugType=none -p:StripSymbols=true \
    -nologo -v quiet -clp:ErrorsOnly
}
say "building dso-init (NativeAOT, static)"
publish src/Dso.Launcher
if [ "${1:-}" = "--with-testapp" ]; then
  say "building the test application (NativeAOT, static)"
  publish tests/Dso.TestApp
fi
rm -f "$out"/*.xml "$out"/*.dbg
