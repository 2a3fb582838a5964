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

# ---------------------------------------------------------------------------------------------
# Test lanes. Each lane is an engine of its own, in a network namespace of its own (its loopback,
# published ports and iptables apart from the host's and the other lane's), reached through its
# own socket, with a Docker config of its own that decides which Compose `docker dso` finds:
#   v2  Engine 26 + Compose v2 (Debian 13's docker.io, containerd and docker-compose, extracted
#       beside the system, not installed), what users run: the main lane
#   v1  Engine 20.10 + Compose v1 (Debian 12's docker.io and docker-compose, installed with apt)
# Commands run in a lane with lane_run. Nothing here touches the host's own engine or network.
LANE_ROOT=/var/lib/dso-lanes

# ensure_trixie_engine: Engine 26 and Compose v2 from Debian 13 under $LANE_ROOT/trixie (downloaded once).
ensure_trixie_engine() {
  local dir="$LANE_ROOT/trixie"
  [ -x "$dir/usr/sbin/dockerd" ] && [ -x "$dir/usr/libexec/docker/cli-plugins/docker-compose" ] && return 0
  say "fetching Engine 26 and Compose v2 (Debian 13 packages, extracted into $dir)"
  local apt="$LANE_ROOT/apt"
  as_root mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/debs"
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main" | as_root tee "$apt/sources.list" >/dev/null
  # A private apt state: the host's sources, preferences and package database stay as they are.
  local opts=(-o Dir::Etc::SourceList="$apt/sources.list" -o Dir::Etc::SourceParts=/dev/null -o Dir::State::Lists="$apt/lists"
    -o Dir::Cache="$apt/cache" -o Dir::Etc::Preferences=/dev/null -o Dir::Etc::PreferencesParts=/dev/null
    -o Dir::State::Status=/dev/null -o Debug::NoLocking=1 -o APT::Sandbox::User=root)
  as_root apt-get "${opts[@]}" update -q >/tmp/dso-apt-trixie.log 2>&1 || die "apt-get update for Debian 13 failed; see /tmp/dso-apt-trixie.log"
  as_root rm -f "$apt"/debs/*.deb
  (cd "$apt/debs" && as_root apt-get "${opts[@]}" download docker.io containerd docker-compose >>/tmp/dso-apt-trixie.log 2>&1) \
    || die "downloading docker.io, containerd and docker-compose from Debian 13 failed; see /tmp/dso-apt-trixie.log"
  as_root rm -rf "$dir.tmp"
  as_root mkdir -p "$dir.tmp"
  local deb
  for deb in "$apt"/debs/*.deb; do as_root dpkg-deb -x "$deb" "$dir.tmp"; done
  as_root rm -rf "$dir"
  as_root mv "$dir.tmp" "$dir"
}

lane_socket() { echo "/run/dso-lanes/$1/docker.sock"; }
lane_config() { echo "$LANE_ROOT/$1/docker-config"; }

# lane_start LANE: makes the lane's network namespace and starts its engine unless it answers.
lane_start() {
  local lane="$1" ns="dso-$1" sock exec_path config
  sock=$(lane_socket "$lane")
  config=$(lane_config "$lane")
  local flags=()
  case "$lane" in
    v2) ensure_trixie_engine; exec_path="$LANE_ROOT/trixie/usr/sbin:$LANE_ROOT/trixie/usr/bin:$PATH" ;;
    # The v2 engine as many production hosts run it: published ports forwarded by iptables DNAT even
    # for loopback clients, no docker-proxy (bench/run --only proxy measures Docker's kernel path there).
    kernel) ensure_trixie_engine; exec_path="$LANE_ROOT/trixie/usr/sbin:$LANE_ROOT/trixie/usr/bin:$PATH"; flags=(--userland-proxy=false) ;;
    v1) exec_path="$PATH" ;;
    *) die "unknown lane '$lane' (v2, v1 or kernel)" ;;
  esac
  as_root mkdir -p "$config/cli-plugins" "/run/dso-lanes/$lane"
  if [ "$lane" != v1 ]; then
    as_root cp -f "$LANE_ROOT/trixie/usr/libexec/docker/cli-plugins/docker-compose" "$config/cli-plugins/docker-compose"
  fi
  [ -e "/var/run/netns/$ns" ] || as_root ip netns add "$ns"
  as_root ip -n "$ns" link set lo up
  if DOCKER_HOST="unix://$sock" docker info >/dev/null 2>&1; then return 0; fi
  say "starting the $lane lane's engine (namespace $ns, socket $sock, log /tmp/dso-lane-$lane.log)"
  # nsenter, not `ip netns exec`: that remounts /sys and hides the cgroup hierarchy dockerd needs.
  as_root sh -c "nohup nsenter --net=/var/run/netns/$ns env PATH='$exec_path' dockerd \
    --data-root '$LANE_ROOT/$lane/docker' --exec-root '/run/dso-lanes/$lane/exec' --pidfile '/run/dso-lanes/$lane/docker.pid' \
    -H 'unix://$sock' --cgroup-parent '/dso-lane-$lane' ${flags[*]} >/tmp/dso-lane-$lane.log 2>&1 &"
  local i
  for i in $(seq 1 60); do
    if DOCKER_HOST="unix://$sock" docker info >/dev/null 2>&1; then say "$lane engine ready after ${i}s"; return 0; fi
    sleep 1
  done
  tail -n 20 "/tmp/dso-lane-$lane.log" >&2 || true
  die "the $lane lane's engine did not answer within 60 s; see /tmp/dso-lane-$lane.log"
}

# lane_run LANE COMMAND…: runs COMMAND in the lane: its network namespace, engine and Compose.
lane_run() {
  local lane="$1"
  shift
  # The v1 lane names its Compose: a Compose v2 plugin installed system-wide must not stand in for it.
  local compose=()
  [ "$lane" = v1 ] && compose=(DSO_COMPOSE=v1)
  as_root nsenter --net="/var/run/netns/dso-$lane" env DOCKER_HOST="unix://$(lane_socket "$lane")" DOCKER_CONFIG="$(lane_config "$lane")" DSO_TEST_LANE="$lane" "${compose[@]}" "$@"
}

# lane_versions LANE: "Engine X, Compose Y" as the lane's engine and `docker dso` see them.
lane_versions() {
  local engine compose
  engine=$(lane_run "$1" docker version --format '{{.Server.Version}}' 2>/dev/null || echo unknown)
  if [ "$1" = v2 ]; then
    compose=$(lane_run "$1" docker compose version --short 2>/dev/null || echo unknown)
  else
    compose=$(docker-compose version --short 2>/dev/null || echo unknown)
  fi
  echo "Engine $engine, Compose $compose"
}

# parse_build_options DEFAULT_OUT HELP_RANGE ARGS…: the options build-deb.sh and build-release.sh
# share. Sets version (default: <Version> of Directory.Build.props), out (default DEFAULT_OUT) and
# native (0 with --no-native); -h prints the caller's header lines HELP_RANGE (sed's "2,8p" form).
parse_build_options() {
  local help="$2"
  out="$1"
  shift 2
  version=$(sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' "$DSO_ROOT/Directory.Build.props" | head -n 1)
  native=1
  while [ $# -gt 0 ]; do
    case "$1" in
      --version) version="${2:?--version needs a value}"; shift 2 ;;
      --out) out="${2:?--out needs a directory}"; shift 2 ;;
      --no-native) native=0; shift ;;
      -h|--help) sed -n "$help" "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
      *) die "unknown option '$1' (use --version VERSION, --out DIR or --no-native)" ;;
    esac
  done
}
