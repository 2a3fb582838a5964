#!/usr/bin/env bash
# Whole-process timing: `docker dso up -d` against plain compose `up -d` for the same
# 5-service stack (baseline: values written in plain env), measured in the same run with
# hyperfine. Each run starts from a stack that is down. Writes a markdown section to stdout.
#   bench/process/up.sh OUT_DIR [RUNS]
# With UP_COMPOSE=v2 the baseline is `docker compose` (v2, the plugin DOCKER_CONFIG names) and
# docker dso drives the same; run it in the v2 lane (bench/run does). Otherwise docker-compose (v1).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
source "$root/scripts/lib.sh"
source "$root/bench/process/hyperfine.sh"
out="$(cd "$1" && pwd)"
runs="${2:-10}"
ensure_packages hyperfine jq docker.io docker-compose busybox-static
ensure_engine

cli="$root/artifacts/native/docker-dso"
[ -x "$cli" ] || die "$cli is missing: run scripts/build-native.sh first (bench/run does, through scripts/install.sh)"
[ -x "$root/artifacts/native/dso-init" ] || bash "$root/scripts/build-native.sh"

if [ "${UP_COMPOSE:-v1}" = v2 ]; then
  compose="docker compose"; label="docker compose up -d"; tag="-v2"
  versions="Compose $(docker compose version --short), Engine $(docker version --format '{{.Server.Version}}')"
else
  compose="docker-compose"; label="docker-compose up -d"; tag=""
  versions="Compose $(docker-compose version --short), Engine $(docker version --format '{{.Server.Version}}')"
fi

work=$(mktemp -d /tmp/dso-bench-up-XXXXXX)
trap '$compose -p dsobenchplain -f "$work/plain.yaml" down -t 0 >/dev/null 2>&1 || true;
      (cd "$work" && DSO_HOME="$work/home" "$cli" down -p dsobenchdso -f stack.yaml -t 0 >/dev/null 2>&1) || true;
      rm -rf "$work"' EXIT

source "$root/bench/process/image.sh"
ensure_bench_image
image=dso-bench/busybox:1

plain="services:"
dso="services:"
export DSO_HOME="$work/home" DSO_INIT="$root/artifacts/native/dso-init" DSO_SECRETS_DIR="/dev/shm/dso-bench-$$"
"$cli" init >/dev/null
for i in 1 2 3 4 5; do
  service="
  svc$i:
    image: $image
    command: [\"sleep\", \"2147483647\"]
    environment:"
  plain="$plain$service
      DB_PASSWORD: plain-password-$i
      API_TOKEN: plain-token-$i"
  dso="$dso$service
      DB_PASSWORD: dso://bench/svc$i/db_password
      API_TOKEN_FILE: dsofile://bench/svc$i/api_token"
  printf 'password-%s' "$i" | "$cli" secret set "bench/svc$i/db_password" >/dev/null
  printf 'token-%s' "$i" | "$cli" secret set "bench/svc$i/api_token" >/dev/null
done
printf '%s\n' "$plain" > "$work/plain.yaml"
printf '%s\n' "$dso" > "$work/stack.yaml"

cd "$work"
# hyperfine times all of one command's runs, then the other's, and the command timed second
# came out slower (docker dso up: 1.57 s timed first, 1.75-1.83 s timed second, same binaries
# and engine). So the runs go in rounds of two per command, the order swapping every round;
# the medians are over every round.
rounds=$(( (runs + 1) / 2 ))
plain_cmd=(--prepare "$compose -p dsobenchplain -f plain.yaml down -t 0 >/dev/null 2>&1"
  --command-name "$label (plain env, baseline)" "$compose -p dsobenchplain -f plain.yaml up -d")
dso_cmd=(--prepare "$cli down -p dsobenchdso -f stack.yaml -t 0 >/dev/null 2>&1"
  --command-name "docker dso up -d (10 references, key-file vault)" "$cli up -p dsobenchdso -f stack.yaml -d")
rm -f "$out"/up$tag-round-*.json
for round in $(seq 1 "$rounds"); do
  if [ $((round % 2)) -eq 1 ]; then order=("${plain_cmd[@]}" "${dso_cmd[@]}"); else order=("${dso_cmd[@]}" "${plain_cmd[@]}"); fi
  hyperfine --runs 2 --warmup 1 --export-json "$out/up$tag-round-$round.json" --style basic "${order[@]}" >&2
done

# Every run's time of the command whose name starts with $1, over all rounds: the median.
median_of() {
  jq -s --arg name "$1" '[.[].results[] | select(.command | startswith($name)) | .times[]] | sort
    | if length % 2 == 1 then .[length / 2 | floor] else (.[length / 2 - 1] + .[length / 2]) / 2 end' "$out"/up$tag-round-*.json
}
count=$(jq -s '[.[].results[0].times[]] | length' "$out"/up$tag-round-*.json)
base=$(median_of "$label")
ours=$(median_of "docker dso up")
ratio=$(ratio "$ours" "$base")
cat <<EOT

## up: \`docker dso up -d\` vs \`$label\`${tag:+ (Compose v2)}

Against $versions.

A 5-service stack (busybox, \`sleep\`) started from nothing, $count runs each, timed as whole
processes with hyperfine in $rounds rounds of 2 runs per command after a warm-up, the order swapping
every round (timed one block after the other, whichever went second came out slower:
\`docker dso up\` took 1.57 s timed first and 1.75–1.83 s timed second, with the same binaries). **Baseline:** plain \`$label\` with the
values written in \`environment:\`. DSO resolves 10 references (5 \`dso://\`, 5 \`dsofile://\`),
unlocks a key-file vault, inspects 5 images, materializes the secrets in tmpfs and runs the same
compose with its override. Target: ratio at most 1.15.

| command | median | ratio |
|---|---:|---:|
| $label (plain env, baseline) | $(awk -v v="$base" 'BEGIN { printf "%.3f s", v }') | 1.00 |
| docker dso up -d | $(awk -v v="$ours" 'BEGIN { printf "%.3f s", v }') | $ratio |

Rerun: \`bench/run --only up\` (raw data: \`artifacts/bench/process/up$tag-round-*.json\`).
EOT
