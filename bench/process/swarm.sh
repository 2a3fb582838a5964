#!/usr/bin/env bash
# Whole-process timing on a one-node swarm: from a secret change to all 3 replicas converged —
# `docker dso secret set` with the agent watching the stack (it notices the change and rolls the
# service), once with versions that hold their values and once with versions served by the agent's
# secret driver, and `docker dso stack deploy` after `docker dso secret set` without an agent — against
# the same rotation done by hand (`docker secret create`, `docker service update
# --secret-rm/--secret-add`, wait for Swarm's update to complete, `docker secret rm`) on an
# identical service, in the same run, with hyperfine.
# Writes a markdown section to stdout.
#   bench/process/swarm.sh OUT_DIR [RUNS]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
source "$root/scripts/lib.sh"
source "$root/bench/process/hyperfine.sh"
out="$(cd "$1" && pwd)"
runs="${2:-5}"
ensure_packages hyperfine docker.io busybox-static
ensure_engine

cli="$root/artifacts/native/docker-dso"
[ -x "$cli" ] || die "$cli is missing: run scripts/build-native.sh first (bench/run does, through scripts/install.sh)"
[ -x "$root/artifacts/native/dso-init" ] || bash "$root/scripts/build-native.sh" --with-testapp
source "$root/bench/process/image.sh"
ensure_bench_images

joined=no
if [ "$(docker info --format '{{.Swarm.LocalNodeState}}')" != active ]; then
  docker swarm init --advertise-addr 127.0.0.1 >/dev/null
  joined=yes
fi
work=$(mktemp -d /tmp/dso-bench-swarm-XXXXXX)
agent_pids=""; watch_pids=""
stacks="dsobenchswarm dsobenchhand dsobenchagent dsobenchdriver"
cleanup() {
  for pid in $watch_pids; do kill "$pid" 2>/dev/null || true; done
  for pid in $agent_pids; do { kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; } || true; done
  docker stack rm $stacks >/dev/null 2>&1 || true
  for _ in $(seq 1 60); do
    [ -z "$(for s in $stacks; do docker ps -aq --filter "label=com.docker.stack.namespace=$s"; done)" ] && break
    sleep 1
  done
  docker secret ls -q --filter label=dso.bench=true | xargs -r docker secret rm >/dev/null 2>&1 || true
  docker secret ls -q --filter label=dso.stack=dsobenchagent | xargs -r docker secret rm >/dev/null 2>&1 || true
  docker secret ls -q --filter label=dso.stack=dsobenchdriver | xargs -r docker secret rm >/dev/null 2>&1 || true
  rm -rf "$agent_secrets" "$agent_secrets-driver"
  [ "$joined" = yes ] && docker swarm leave --force >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

agent_secrets="/dev/shm/dso-bench-swarm-agent-$$"
export DSO_HOME="$work/home" DSO_INIT="$root/artifacts/native/dso-init" DSO_SECRETS_DIR="/dev/shm/dso-bench-swarm-$$"
"$cli" init >/dev/null
head -c 24 /dev/urandom | base64 | tr -d '\n' | "$cli" secret set bench/token >/dev/null
# Each agent's stack has its own secret, so the other runs' changes do not make it rotate.
head -c 24 /dev/urandom | base64 | tr -d '\n' | "$cli" secret set bench/agent-token >/dev/null
head -c 24 /dev/urandom | base64 | tr -d '\n' | "$cli" secret set bench/driver-token >/dev/null

service() { # $1: environment line, $2: command's value variable, $3: extra secrets block
  cat <<EOT
services:
  web:
    image: dso-bench/app:1
    command: ["serve", "8080", "$2"]
    environment:
      $1
    healthcheck:
      test: ["CMD", "/app", "check", "8080"]
      interval: 1s
      timeout: 1s
      retries: 2
    deploy:
      replicas: 3
      endpoint_mode: dnsrr
      update_config:
        parallelism: 1
        delay: 0s
        order: start-first
        failure_action: rollback
        monitor: 2s
$3
EOT
}
service "TOKEN: dso://bench/token" TOKEN "" > "$work/stack.yaml"
service "TOKEN: dso://bench/agent-token" TOKEN "" > "$work/agent.yaml"
service "TOKEN: dso://bench/driver-token" TOKEN "" > "$work/driver.yaml"
first="hand-$(date +%s%N)"
head -c 24 /dev/urandom | base64 | tr -d '\n' | docker secret create --label dso.bench=true "$first" - >/dev/null
echo "$first" > "$work/current"
service "TOKEN_FILE: /run/secrets/token" TOKEN_FILE "    secrets:
      - source: token
        target: token
secrets:
  token:
    external: true
    name: $first" > "$work/hand.yaml"

cd "$work"
"$cli" stack deploy -c stack.yaml dsobenchswarm >"$work/deploy.log" 2>&1 || { cat "$work/deploy.log" >&2; exit 1; }
docker stack deploy -c hand.yaml dsobenchhand >"$work/deploy.log" 2>&1 || { cat "$work/deploy.log" >&2; exit 1; }
until [ "$(docker service ls --filter label=com.docker.stack.namespace=dsobenchhand --format '{{.Replicas}}')" = "3/3" ]; do sleep 0.5; done

# Two agents, each with its own socket, state and RAM directories and the same vault (DSO_HOME):
# one makes versions that hold their values (secret driver off), one serves them as the secret
# driver. Debounce 0 s: the debounce window (5 s by default) adds to every rotation by design.
start_agent() { # $1: name, $2: secret driver socket ("" for none), $3: stack, $4: stack file
  mkdir -p "$work/$1/run"
  local port
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  cat > "$work/$1/dso.yaml" <<EOT
agent:
  socket: $work/$1/run/dso.sock
  socket_group: dso-bench-absent
  state_dir: $work/$1/state
  secrets_dir: $agent_secrets${2:+-driver}
  debounce: 0s
  secret_driver:
    socket: "$2"
  api:
    address: 127.0.0.1:$port
EOT
  "$cli" agent --config "$work/$1/dso.yaml" >"$work/$1/agent.log" 2>&1 &
  agent_pids="$agent_pids $!"
  local env="DSO_AGENT_SOCKET=$work/$1/run/dso.sock"
  for _ in $(seq 1 60); do env "$env" "$cli" status >/dev/null 2>&1 && break; sleep 0.5; done
  env "$env" "$cli" status >/dev/null 2>&1 || { cat "$work/$1/agent.log" >&2; die "the agent $1 did not start"; }
  env "$env" "$cli" stack deploy -c "$4" "$3" >"$work/deploy.log" 2>&1 || { cat "$work/deploy.log" >&2; exit 1; }
  env "$env" "$cli" watch --json > "$work/$1/events.jsonl" 2>&1 &
  watch_pids="$watch_pids $!"
}
start_agent versioned "" dsobenchagent agent.yaml
start_agent driver /run/docker/plugins/dsobench.sock dsobenchdriver driver.yaml
[ "$(docker secret inspect --format '{{.Spec.Driver.Name}}' $(docker secret ls -q --filter label=dso.stack=dsobenchdriver | head -n 1))" = dsobench ] \
  || die "the driver agent's stack does not use the secret driver"
sleep 1

# One run: the value changes in the vault; it ends when the agent reports the rotation's result
# (after Swarm's update completed and the old version was removed).
agent_run() { # $1: agent name, $2: its secret
  cat <<EOT
set -euo pipefail
count() { grep -c '"rotation\.\(rotated\|failed\)"' $1/events.jsonl || true; }
before=\$(count)
head -c 24 /dev/urandom | base64 | tr -d '\n' | env DSO_AGENT_SOCKET=$work/$1/run/dso.sock "$cli" secret set $2 >/dev/null
now=\$before
for _ in \$(seq 1 3000); do
  now=\$(count)
  [ "\$now" -gt "\$before" ] && break
  sleep 0.05
done
[ "\$now" -gt "\$before" ] || { echo "the agent reported no rotation within 150 s" >&2; exit 1; }
if grep '"rotation\.\(rotated\|failed\)"' $1/events.jsonl | tail -n 1 | grep -q '"rotation\.failed"'; then echo "the agent's rotation failed" >&2; exit 1; fi
EOT
}
agent_run versioned bench/agent-token > "$work/with-agent.sh"
agent_run driver bench/driver-token > "$work/with-driver.sh"

cat > "$work/by-hand.sh" <<'EOT'
set -euo pipefail
old=$(cat current); new="hand-$(date +%s%N)"
head -c 24 /dev/urandom | base64 | tr -d '\n' | docker secret create --label dso.bench=true "$new" - >/dev/null
docker service update --detach --quiet --secret-rm "$old" --secret-add "source=$new,target=token" dsobenchhand_web >/dev/null
for _ in $(seq 1 600); do
  state=$(docker service inspect --format '{{if .UpdateStatus}}{{.UpdateStatus.State}}{{end}}' dsobenchhand_web)
  [ "$state" = completed ] && break
  case "$state" in rollback*|paused) echo "update $state" >&2; exit 1 ;; esac
  sleep 0.3
done
docker secret rm "$old" >/dev/null
echo "$new" > current
EOT
# Without an agent (none listens on this socket) the rotation is the user's redeploy.
cat > "$work/with-dso.sh" <<EOT
set -euo pipefail
export DSO_AGENT_SOCKET="$work/run/none.sock"
head -c 24 /dev/urandom | base64 | tr -d '\n' | "$cli" secret set bench/token >/dev/null
"$cli" stack deploy -c stack.yaml dsobenchswarm >/dev/null 2>&1
EOT

if ! hyperfine --runs "$runs" --export-json "$out/swarm.json" --style basic \
  --command-name "by hand: secret create, service update, wait, secret rm (baseline)" "bash by-hand.sh" \
  --command-name "docker dso secret set + stack deploy" "bash with-dso.sh" \
  --command-name "agent: docker dso secret set, the agent rolls the service" "bash with-agent.sh" \
  --command-name "driver: docker dso secret set, the agent rolls the service, the driver serves the values" "bash with-driver.sh" >&2; then
  for name in versioned driver; do echo "--- agent $name (last lines)" >&2; tail -n 30 "$work/$name/agent.log" >&2; tail -n 5 "$work/$name/events.jsonl" >&2; done
  die "a timed command failed"
fi

base=$(hyperfine_median "$out/swarm.json" "by hand")
ours=$(hyperfine_median "$out/swarm.json" "docker dso")
ratio=$(ratio "$ours" "$base")
agent=$(hyperfine_median "$out/swarm.json" "agent:")
agent_ratio=$(ratio "$agent" "$base")
driver=$(hyperfine_median "$out/swarm.json" "driver:")
driver_ratio=$(ratio "$driver" "$base")
cat <<EOT

## swarm: a secret change rolled to 3 replicas

A one-node swarm (Engine $(docker version --format '{{.Server.Version}}')), a 3-replica service of the static test application with a 1 s health check,
\`update_config\` parallelism 1, no delay, \`order: start-first\`, monitor 2 s. Each run changes
the secret and ends when Swarm reports the update completed on all replicas, $runs runs each,
timed as whole processes with hyperfine. **Baseline:** the same rotation by hand on an identical
service — \`docker secret create\`, \`docker service update --detach --secret-rm --secret-add\`,
polling \`UpdateStatus\` every 300 ms until \`completed\` (DSO's poll interval), \`docker secret rm\`.
With the agent (\`agent.debounce: 0s\`: the 5 s default adds to every rotation by design), a run is
\`docker dso secret set\` and ends at the agent's \`rotation.rotated\` event, read from
\`docker dso watch --json\`: the agent notices the vault change, resolves, creates the version,
swaps the service's secrets, waits for Swarm's update and prunes; a second agent does the same
with its secret driver on (\`agent.secret_driver.socket\`), so Swarm stores no value and asks the
agent for each one as it starts each new task. Without an agent, a run is
\`docker dso secret set\` then \`docker dso stack deploy\` (resolve from the vault, create the
version, \`docker stack deploy\`, wait, prune). Each way has its own identical stack.
Target: ratio at most 1.1. Swarm's update (start-first, health checks, the monitor period) is nearly
all of each run, so differences of a few percent either way are within the runs' spread.

| command | median | ratio |
|---|---:|---:|
| by hand (baseline) | $(awk -v v="$base" 'BEGIN { printf "%.3f s", v }') | 1.00 |
| the agent rolls it after \`docker dso secret set\` | $(awk -v v="$agent" 'BEGIN { printf "%.3f s", v }') | $agent_ratio |
| the same, values served by the agent's secret driver | $(awk -v v="$driver" 'BEGIN { printf "%.3f s", v }') | $driver_ratio |
| no agent: \`docker dso secret set\` + \`stack deploy\` | $(awk -v v="$ours" 'BEGIN { printf "%.3f s", v }') | $ratio |

Rerun: \`bench/run --only swarm\` (raw data: \`artifacts/bench/process/swarm.json\`).
EOT
