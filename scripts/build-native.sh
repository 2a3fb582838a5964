#!/usr/bin/env bash
# Publishes the NativeAOT executables: docker-dso (the CLI plugin, which also runs the built-in
# providers as `docker-dso provider-plugin TYPE`), dso-init (the in-container launcher, static),
# dso-agent (the agent daemon) — the two beside their libsodium.so — and, with --with-testapp, the
# test application (static). Needs clang and lld (installed with apt when missing).
#   scripts/build-native.sh [--with-testapp] [--version VERSION]   → artifacts/native/
# (--version stamps docker-dso and dso-agent; default: Directory.Build.props)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$DSO_ROOT"

testapp=0
stamp=()
while [ $# -gt 0 ]; do
  case "$1" in
    --with-testapp) testapp=1; shift ;;
    --version) stamp=(-p:Version="${2%%[-+~]*}" -p:InformationalVersion="$2"); shift 2 ;;
    *) die "unknown option '$1' (use --with-testapp or --version VERSION)" ;;
  esac
done
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
    "${@:2}" -nologo -v quiet -clp:ErrorsOnly
  rm -f "$staging"/*.xml "$staging"/*.dbg
  local file
  for file in "$staging"/*; do
    mv -f "$file" "$out/"
  done
  rmdir "$staging"
}
say "building dso-init (NativeAOT, static)"
publish src/Dso.Launcher
say "building dso-agent (NativeAOT)"
publish src/Dso.Daemon "${stamp[@]}"
say "building docker-dso (NativeAOT)"
publish src/Dso.Cli -p:PublishAot=true "${stamp[@]}"
if [ "$testapp" = 1 ]; then
  say "building the test application (NativeAOT, static)"
  publish tests/Dso.TestApp
fi
