#!/usr/bin/env bash
# Whole-process timing on a one-node swarm: from a secret change to all 3 replicas converged,
# `docker dso stack deploy` after `docker dso secret set`, against the same rotation done by hand
# (`docker secret create`, `docker service update --secret-rm/--secret-add`, wait for Swarm's
# update to complete, `docker secret rm`) on an identical service, in the same run, with hyperfine.
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

cli="$root/artifacts/publish/cli/docker-dso"
[ -x "$cli" ] || die "$cli is missing: run scripts/install.sh first (bench/run does)"
[ -x "$root/artifacts/native/dso-init" ] || bash "$root/scripts/build-native.sh" --with-testapp
source "$root/bench/process/image.sh"
ensure_bench_images

joined=no
if [ "$(docker info --format '{{.Swarm.LocalNodeState}}')" != active ]; then
  docker swarm init --advertise-addr 127.0.0.1 >/dev/null
  joined=yes
fi
work=$(mktemp -d /tmp/dso-bench-swarm-XXXXXX)
cleanup() {
  docker stack rm dsobenchswarm dsobenchhand >/dev/null 2>&1 || true
  for _ in $(seq 1 60); do
    [ -z "$(docker ps -aq --filter label=com.docker.stack.namespace=dsobenchswarm --filter label=com.docker.stack.namespace=dsobenchhand)" ] && break
    sleep 1
  done
  docker secret ls -q --filter label=dso.bench=true | xargs -r docker secret rm >/dev/null 2>&1 || true
  [ "$joined" = yes ] && docker swarm leave --force >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

export DSO_HOME="$work/home" DSO_INIT="$root/artifacts/native/dso-init" DSO_SECRETS_DIR="/dev/shm/dso-bench-swarm-$$"
"$cli" init >/dev/null
head -c 24 /dev/urandom | base64 | tr -d '\n' | "$cli" secret set bench/token >/dev/null

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
cat > "$work/with-dso.sh" <<EOT
set -euo pipefail
head -c 24 /dev/urandom | base64 | tr -d '\n' | "$cli" secret set bench/token >/dev/null
"$cli" stack deploy -c stack.yaml dsobenchswarm >/dev/null 2>&1
EOT

hyperfine --runs "$runs" --export-json "$out/swarm.json" --style basic \
  --command-name "by hand: secret create, service update, wait, secret rm (baseline)" "bash by-hand.sh" \
  --command-name "docker dso secret set + stack deploy" "bash with-dso.sh" >&2

base=$(hyperfine_median "$out/swarm.json" "by hand")
ours=$(hyperfine_median "$out/swarm.json" "docker dso")
ratio=$(ratio "$ours" "$base")
cat <<EOT

## swarm: a secret change rolled to 3 replicas

A one-node swarm, a 3-replica service of the static test application with a 1 s health check,
\`update_config\` parallelism 1, no delay, \`order: start-first\`, monitor 2 s. Each run changes
the secret and ends when Swarm reports the update completed on all replicas, $runs runs each,
timed as whole processes with hyperfine. **Baseline:** the same rotation by hand on an identical
service — \`docker secret create\`, \`docker service update --detach --secret-rm --secret-add\`,
polling \`UpdateStatus\` every 300 ms until \`completed\` (DSO's poll interval), \`docker secret rm\`.
DSO's run is \`docker dso secret set\` then \`docker dso stack deploy\` (resolve from the vault, create
the version, \`docker stack deploy\`, wait, prune). Target: ratio at most 1.1.

| command | median | ratio |
|---|---:|---:|
| by hand (baseline) | $(awk -v v="$base" 'BEGIN { printf "%.3f s", v }') | 1.00 |
| docker dso secret set + stack deploy | $(awk -v v="$ours" 'BEGIN { printf "%.3f s", v }') | $ratio |

Rerun: \`bench/run --only swarm\` (raw data: \`artifacts/bench/process/swarm.json\`).
EOT
