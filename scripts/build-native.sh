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
# A build stopped half-way (Ctrl-C, a timeout) leaves its staging directory behind.
rm -rf "$out"/.staging.*
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
# build NAME WHAT PROJECT [ARGS…]: publishes PROJECT unless artifacts/native/NAME is newer than every
# source it is built from (src/, tests/Dso.TestApp, packaging/ it embeds, the build settings) and was stamped with the
# same version: a second call (install.sh after test.sh, the quickstart) takes a second, not minutes.
build() {
  local name="$1" what="$2" project="$3"
  shift 3
  local marker="$out/.$name.version" wanted="${stamp[*]:-default}"
  if [ -x "$out/$name" ] && [ "$(cat "$marker" 2>/dev/null)" = "$wanted" ] \
    && [ -z "$(find src tests/Dso.TestApp build packaging Directory.Build.props Directory.Packages.props global.json \
      \( -name bin -o -name obj \) -prune -o -type f -newer "$out/$name" -print -quit 2>/dev/null)" ]; then
    say "up to date: $name"
    return
  fi
  say "building $name ($what)"
  publish "$project" "$@"
  printf '%s\n' "$wanted" > "$marker"
}
build dso-init "NativeAOT, static" src/Dso.Launcher
build dso-agent "NativeAOT" src/Dso.Daemon "${stamp[@]}"
build docker-dso "NativeAOT" src/Dso.Cli -p:PublishAot=true "${stamp[@]}"
if [ "$testapp" = 1 ]; then
  build dso-testapp "NativeAOT, static" tests/Dso.TestApp
fi
