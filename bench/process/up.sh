#!/usr/bin/env bash
# Whole-process timing: `docker dso up -d` against plain `docker-compose up -d` for the same
# 5-service stack (baseline: values written in plain env), measured in the same run with
# hyperfine. Each run starts from a stack that is down. Writes a markdown section to stdout.
#   bench/process/up.sh OUT_DIR [RUNS]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
source "$root/scripts/lib.sh"
source "$root/bench/process/hyperfine.sh"
out="$(cd "$1" && pwd)"
runs="${2:-10}"
ensure_packages hyperfine docker.io docker-compose busybox-static
ensure_engine

cli="$root/artifacts/publish/cli/docker-dso"
[ -x "$cli" ] || die "$cli is missing: run scripts/install.sh first (bench/run does)"
[ -x "$root/artifacts/native/dso-init" ] || bash "$root/scripts/build-native.sh"

work=$(mktemp -d /tmp/dso-bench-up-XXXXXX)
trap 'docker-compose -p dsobenchplain -f "$work/plain.yaml" down -t 0 >/dev/null 2>&1 || true;
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
hyperfine --runs "$runs" --warmup 1 --export-json "$out/up.json" --style basic \
  --prepare "docker-compose -p dsobenchplain -f plain.yaml down -t 0 >/dev/null 2>&1" \
  --command-name "docker-compose up -d (plain env, baseline)" "docker-compose -p dsobenchplain -f plain.yaml up -d" \
  --prepare "$cli down -p dsobenchdso -f stack.yaml -t 0 >/dev/null 2>&1" \
  --command-name "docker dso up -d (10 references, key-file vault)" "$cli up -p dsobenchdso -f stack.yaml -d" >&2

base=$(hyperfine_median "$out/up.json" "docker-compose up")
ours=$(hyperfine_median "$out/up.json" "docker dso up")
ratio=$(ratio "$ours" "$base")
cat <<EOT

## up: \`docker dso up -d\` vs \`docker-compose up -d\`

A 5-service stack (busybox, \`sleep\`) started from nothing, $runs runs each after one warm-up,
timed as whole processes with hyperfine. **Baseline:** plain \`docker-compose up -d\` with the
values written in \`environment:\`. DSO resolves 10 references (5 \`dso://\`, 5 \`dsofile://\`),
unlocks a key-file vault, inspects 5 images, materializes the secrets in tmpfs and runs the same
compose with its override. Target: ratio at most 1.15.

| command | median | ratio |
|---|---:|---:|
| docker-compose up -d (plain env, baseline) | $(awk -v v="$base" 'BEGIN { printf "%.3f s", v }') | 1.00 |
| docker dso up -d | $(awk -v v="$ours" 'BEGIN { printf "%.3f s", v }') | $ratio |

Rerun: \`bench/run --only up\` (raw data: \`artifacts/bench/process/up.json\`).
EOT
