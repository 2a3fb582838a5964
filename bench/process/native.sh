#!/usr/bin/env bash
# The native executables as users get them: start-up of `docker dso version` against the Compose v2
# plugin's `docker compose version`, the size of what the package installs against the Compose v2
# plugin, and the idle memory of a provider plugin and of the agent against `docker-proxy` (the
# small helper Docker keeps running per published port). Run in the v2 lane (bench/run does).
# Writes a markdown section to stdout.
#   bench/process/native.sh OUT_DIR [RUNS]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
source "$root/scripts/lib.sh"
source "$root/bench/process/hyperfine.sh"
out="$(cd "$1" && pwd)"
runs="${2:-40}"
ensure_packages hyperfine dpkg-dev
native="$root/artifacts/native"
for file in docker-dso dso-agent dso-init; do
  [ -x "$native/$file" ] || die "$native/$file is missing: run scripts/build-native.sh first (bench/run does)"
done
compose_plugin="${DOCKER_CONFIG:?run in the v2 lane: bench/run --only native}/cli-plugins/docker-compose"
[ -x "$compose_plugin" ] || die "no Compose v2 plugin at $compose_plugin: run in the v2 lane (bench/run --only native)"
docker_proxy=$(command -v docker-proxy || echo "$LANE_ROOT/trixie/usr/sbin/docker-proxy")
[ -x "$docker_proxy" ] || die "docker-proxy is missing (the v2 lane's engine brings it)"

work=$(mktemp -d /tmp/dso-bench-native-XXXXXX)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work" /dev/shm/dso-bench-native-$$' EXIT

# --- start-up: both plugins found by the Docker CLI in one plugin directory
mkdir -p "$work/config/cli-plugins"
ln -s "$compose_plugin" "$work/config/cli-plugins/docker-compose"
ln -s "$native/docker-dso" "$work/config/cli-plugins/docker-dso"
DOCKER_CONFIG="$work/config" hyperfine -N --warmup 5 --runs "$runs" --export-json "$out/native-startup.json" \
  -n "docker compose version" "docker compose version" \
  -n "docker dso version" "docker dso version" \
  -n "docker-dso version" "$native/docker-dso version" >/dev/null
compose_version=$(hyperfine_median "$out/native-startup.json" "docker compose version")
dso_version=$(hyperfine_median "$out/native-startup.json" "docker dso version")
direct_version=$(hyperfine_median "$out/native-startup.json" "docker-dso version")
ms() { awk -v s="$1" 'BEGIN { printf "%.1f ms", s * 1000 }'; }

# --- size: everything the package puts on disk (its Installed-Size), from these executables
bash "$root/scripts/build-release.sh" --no-native --out "$work/release" >/dev/null
deb=$(ls "$work/release"/*.deb)
installed_kb=$(dpkg-deb -f "$deb" Installed-Size)
compose_kb=$(( $(stat -L -c %s "$compose_plugin") / 1024 ))
mb() { awk -v k="$1" 'BEGIN { printf "%.1f MB", k / 1024 }'; }
file_kb() { echo $(( $(stat -c %s "$native/$1") / 1024 )); }

# --- memory: RSS after start, idle (read from /proc)
rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }
settle() { sleep 3; }
"$docker_proxy" -proto tcp -host-ip 127.0.0.1 -host-port $(( 20000 + RANDOM % 20000 )) -container-ip 127.0.0.1 -container-port 9 3>/dev/null &
proxy_pid=$!; pids+=("$proxy_pid")
# A plugin started as the agent starts it: its standard input a pipe the host keeps open, after `initialize`.
mkfifo "$work/plugin.in"
{ printf '%s\n' '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":1,"provider":"bench","type":"vault","config":{"endpoint":"http://127.0.0.1:9"}}}'; exec sleep 3600; } > "$work/plugin.in" &
pids+=("$!")
VAULT_TOKEN=bench-token "$native/docker-dso" provider-plugin vault < "$work/plugin.in" > "$work/plugin.out" 2>"$work/plugin.err" &
plugin_pid=$!; pids+=("$plugin_pid")
cat > "$work/dso.yaml" <<YAML
agent:
  socket: $work/agent.sock
  socket_group: dso-bench-absent
  state_dir: $work/state
  secrets_dir: /dev/shm/dso-bench-native-$$
  secret_driver:
    socket: ""
  api:
    address: 127.0.0.1:$(( 20000 + RANDOM % 20000 ))
providers:
  files:
    type: file
    path: $work/secrets.json
YAML
printf '{"bench/a":"v"}' > "$work/secrets.json"
chmod 600 "$work/secrets.json"
"$native/dso-agent" --config "$work/dso.yaml" --log-level warning > "$work/agent.log" 2>&1 &
agent_pid=$!; pids+=("$agent_pid")
settle
grep -q '"protocolVersion"' "$work/plugin.out" || die "the vault plugin did not answer initialize: $(cat "$work/plugin.err")"
kill -0 "$agent_pid" 2>/dev/null || die "dso-agent stopped: $(tail -n 5 "$work/agent.log")"
proxy_rss=$(rss_kb "$proxy_pid")
plugin_rss=$(rss_kb "$plugin_pid")
agent_rss=$(rss_kb "$agent_pid")

cat > "$out/native.json" <<JSON
{"startup_s": {"compose_version": $compose_version, "dso_version": $dso_version, "docker_dso_version": $direct_version},
 "size_kb": {"installed": $installed_kb, "compose_plugin": $compose_kb, "docker_dso": $(file_kb docker-dso), "dso_agent": $(file_kb dso-agent), "dso_init": $(file_kb dso-init)},
 "rss_kb": {"docker_proxy": $proxy_rss, "plugin": $plugin_rss, "agent": $agent_rss}}
JSON

cat <<EOF

## native: start-up, installed size, idle memory

The executables as the package installs them (NativeAOT). Start-up: hyperfine, $runs runs after 5
warm-ups, no shell; the Docker CLI starts a plugin twice per command (its metadata, then the
command). **Baseline:** the Compose v2 plugin, \`docker compose version\`. Targets: \`docker dso
version\` ≤ 1.0× the baseline; \`docker-dso version\` ≤ 10 ms.

| command | median | ratio |
|---|---:|---:|
| docker compose version (baseline) | $(ms "$compose_version") | 1.00 |
| docker dso version | $(ms "$dso_version") | $(ratio "$dso_version" "$compose_version") |
| docker-dso version (the executable alone) | $(ms "$direct_version") | $(ratio "$direct_version" "$compose_version") |

Size: everything the \`.deb\` puts on disk (its \`Installed-Size\`: executables, libsodium, units,
man page, completions, docs). **Baseline:** the Compose v2 plugin's one executable. Target: ≤ 40 MB.

| what | size | ratio |
|---|---:|---:|
| Compose v2 plugin \`docker-compose\` (baseline) | $(mb "$compose_kb") | 1.00 |
| the DSO package, installed | $(mb "$installed_kb") | $(ratio "$installed_kb" "$compose_kb") |
| of which \`docker-dso\` (CLI and the built-in provider plugins) | $(mb "$(file_kb docker-dso)") | $(ratio "$(file_kb docker-dso)" "$compose_kb") |
| of which \`dso-agent\` | $(mb "$(file_kb dso-agent)") | $(ratio "$(file_kb dso-agent)" "$compose_kb") |
| of which \`dso-init\` (the in-container launcher, static) | $(mb "$(file_kb dso-init)") | $(ratio "$(file_kb dso-init)" "$compose_kb") |

Idle memory (RSS from \`/proc\`, 3 s after start): a built-in provider plugin (\`docker-dso
provider-plugin vault\`) after \`initialize\`, waiting on the pipe the agent keeps open; the agent
with a \`file\` provider and nothing registered. **Baseline:** \`docker-proxy\` holding one port.
Targets: plugin ≤ 15 MB, agent ≤ 35 MB.

| process | RSS | ratio |
|---|---:|---:|
| docker-proxy (baseline) | $(mb "$proxy_rss") | 1.00 |
| provider plugin (vault), idle | $(mb "$plugin_rss") | $(ratio "$plugin_rss" "$proxy_rss") |
| dso-agent, idle | $(mb "$agent_rss") | $(ratio "$agent_rss" "$proxy_rss") |

Rerun: \`bench/run --only native\` (raw figures: \`artifacts/bench/process/native.json\`).
EOF
