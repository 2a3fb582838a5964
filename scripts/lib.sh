# Shared helpers for the scripts in this directory. Source it; do not run it.
# shellcheck shell=bash

DSO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# In CI each line also says how far into the run it is (DSO_T0: the run's start, shared with child scripts).
: "${DSO_T0:=$(date +%s)}"
export DSO_T0
say() {
  if [ "${CI:-}" = true ]; then printf '==> [%4ds] %s\n' "$(($(date +%s) - DSO_T0))" "$*" >&2; else printf '==> %s\n' "$*" >&2; fi
}
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else die "'$*' needs root; run as root or install sudo"
  fi
}

# ensure_packages PKG...: installs the Debian packages that are missing (apt), and says which.
ensure_packages() {
  local missing=() pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  command -v apt-get >/dev/null 2>&1 || die "missing packages ${missing[*]} and no apt-get to install them"
  say "installing ${missing[*]} (apt)"
  export DEBIAN_FRONTEND=noninteractive
  if ! as_root apt-get install -y -q "${missing[@]}" >/tmp/dso-apt.log 2>&1; then
    as_root apt-get update -q >>/tmp/dso-apt.log 2>&1 || true
    as_root apt-get install -y -q "${missing[@]}" >>/tmp/dso-apt.log 2>&1 \
      || die "apt-get install ${missing[*]} failed; see /tmp/dso-apt.log"
  fi
}

# ensure_engine: makes sure a Docker engine answers, starting dockerd in the background if none does.
ensure_engine() {
  if docker info >/dev/null 2>&1; then return 0; fi
  command -v dockerd >/dev/null 2>&1 || die "no Docker engine answers and dockerd is not installed (apt-get install docker.io)"
  say "starting dockerd in the background (log: /tmp/dso-dockerd.log)"
  as_root sh -c 'nohup dockerd >/tmp/dso-dockerd.log 2>&1 &'
  local i
  for i in $(seq 1 60); do
    if docker info >/dev/null 2>&1; then say "engine ready after ${i}s"; return 0; fi
    sleep 1
  done
  tail -n 20 /tmp/dso-dockerd.log >&2 || true
  die "dockerd did not answer within 60 s; see /tmp/dso-dockerd.log"
}

ensure_dotnet() {
  command -v dotnet >/dev/null 2>&1 || die "the .NET 10 SDK is required (dotnet not found on PATH)"
  export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
}
