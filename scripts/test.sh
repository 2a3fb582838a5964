#!/usr/bin/env bash
# Runs the whole test suite against real Docker engines and real Compose, in two lanes (lib.sh):
#   v2  Engine 26 + Compose v2, what users run: every test project
#   v1  Engine 20.10 + Compose v1: the projects that drive compose or the engine (end-to-end, agent, Swarm)
# installing and starting what is missing. Each lane's summary names the versions it ran against;
# the last line is "N passed, N failed" over both, computed from the TRX reports.
# DSO_TEST_LANES="v2" (or "v1") runs one lane only.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$DSO_ROOT"

ensure_dotnet
ensure_packages docker.io docker-compose busybox-static clang lld systemd python3 python3-hvac zsh fish man-db dpkg-dev iproute2 util-linux nftables iptables
lanes="${DSO_TEST_LANES:-v2 v1}"
for lane in $lanes; do lane_start "$lane"; done
# The official provider clients that check the fake servers (tests/clients): the AWS SDK for JavaScript.
command -v node >/dev/null 2>&1 || ensure_packages nodejs
command -v npm >/dev/null 2>&1 || ensure_packages npm
say "installing the official client checks (npm ci, tests/clients)"
npm ci --prefix tests/clients --no-audit --no-fund --loglevel=error >/tmp/dso-npm.log 2>&1 \
  || die "npm ci in tests/clients failed; see /tmp/dso-npm.log"
# The Connect client's types for the Secrets Engine resolver, built from proto/ with buf.
npm run gen --prefix tests/clients >>/tmp/dso-npm.log 2>&1 \
  || die "buf generate in tests/clients failed; see /tmp/dso-npm.log"

# The package tests' Debian 12 host (systemd and an engine of its own): a few minutes of debootstrap
# the first time, on the network while the builds below use the CPU.
bash scripts/build-systemd-host.sh >/tmp/dso-systemd-host-build.log 2>&1 &
systemd_host=$!

results="$DSO_ROOT/artifacts/test-results"
rm -rf "$results"
mkdir -p "$results"
export DSO_TEST_RUN_ID="${DSO_TEST_RUN_ID:-$(date +%s)-$$}"

# The native executables first: the build puts them beside each test's docker-dso.
bash scripts/build-native.sh --with-testapp
say "building (Release, warnings are errors)"
dotnet build Dso.slnx -c Release -nologo -v quiet -clp:ErrorsOnly

# The release (archive, install.sh, package) from the same native executables.
bash scripts/build-release.sh --no-native >/dev/null
# The Swarm tests put the engine in Swarm mode, and the package tests install the .deb on this
# machine (/usr, /etc/dso): built here, each run alone after the solution's tests.
dotnet build tests/Dso.Swarm.Tests -c Release -nologo -v quiet -clp:ErrorsOnly
dotnet build tests/Dso.Package.Tests -c Release -nologo -v quiet -clp:ErrorsOnly

wait "$systemd_host" || die "building the systemd host failed; see /tmp/dso-systemd-host-build.log"

status=0
# run_lane LANE: the lane's test projects, reports in $results/LANE.
run_lane() {
  local lane="$1" out="$results/$1" swarm_before
  shift
  mkdir -p "$out"
  say "lane $lane: $(lane_versions "$lane") (run id $DSO_TEST_RUN_ID)"
  if [ "$lane" = v2 ]; then
    lane_run "$lane" dotnet test --solution Dso.slnx -c Release --no-build --report-trx --results-directory "$out" "$@" || status=1
  else
    # Tests of what only Compose v2 reads carry the trait compose=v2.
    for project in Dso.EndToEnd.Tests Dso.Agent.Tests; do
      lane_run "$lane" dotnet test --project "tests/$project" -c Release --no-build --report-trx --results-directory "$out" --filter-not-trait "compose=v2" "$@" || status=1
    done
  fi
  swarm_before=$(lane_run "$lane" docker info --format '{{.Swarm.LocalNodeState}}' 2>/dev/null || true)
  lane_run "$lane" dotnet test --project tests/Dso.Swarm.Tests -c Release --no-build --report-trx --results-directory "$out" "$@" || status=1
  # The Swarm tests leave a swarm they made; make sure of it even when their process died.
  if [ "$swarm_before" != "active" ] && [ "$(lane_run "$lane" docker info --format '{{.Swarm.LocalNodeState}}' 2>/dev/null || true)" = "active" ]; then
    lane_run "$lane" docker swarm leave --force >/dev/null 2>&1 || true
  fi
  if [ "$lane" = v2 ]; then
    lane_run "$lane" dotnet test --project tests/Dso.Package.Tests -c Release --no-build --report-trx --results-directory "$out" "$@" || status=1
  fi
  cleanup_lane "$lane"
}

# Leave the lane's engine as we found it: containers from test images or labelled by this run, the
# networks compose made for test projects, the test images, and the RAM directories of tests.
cleanup_lane() {
  local lane="$1" leftovers networks images
  leftovers=$( (lane_run "$lane" docker ps -aq --filter "label=dso.test.run=$DSO_TEST_RUN_ID"; lane_run "$lane" docker ps -aq --filter "label=dso.test=true") 2>/dev/null | sort -u || true)
  [ -n "$leftovers" ] && lane_run "$lane" docker rm -f $leftovers >/dev/null 2>&1 || true
  networks=$(lane_run "$lane" docker network ls -q --filter "name=dsot" 2>/dev/null || true)
  [ -n "$networks" ] && lane_run "$lane" docker network rm $networks >/dev/null 2>&1 || true
  rm -rf /dev/shm/dso-test-* /dev/shm/dso-store-test-* /dev/shm/dso-prep-test-* 2>/dev/null || true
  if [ "${DSO_TEST_KEEP_IMAGES:-}" != "1" ]; then
    images=$(lane_run "$lane" docker images -q --filter "label=dso.test=true" 2>/dev/null | sort -u || true)
    [ -n "$images" ] && lane_run "$lane" docker rmi -f $images >/dev/null 2>&1 || true
  fi
}

# count DIR: "passed failed skipped reports" over the TRX reports under DIR.
count() {
  local reports
  reports=$(find "$1" -name '*.trx' | wc -l)
  find "$1" -name '*.trx' -exec cat {} + 2>/dev/null | grep -o '<Counters [^>]*>' | awk -v reports="$reports" '
    { for (i = 1; i <= NF; i++) { split($i, kv, "="); gsub(/"/, "", kv[2]);
        if (kv[1] == "passed") p += kv[2];
        if (kv[1] == "failed" || kv[1] == "error" || kv[1] == "timeout" || kv[1] == "aborted") f += kv[2];
        if (kv[1] == "notExecuted") s += kv[2]; } }
    END { printf "%d %d %d %d\n", p, f, s, reports }'
}

summary=()
passed=0 failed=0 skipped=0
for lane in $lanes; do
  run_lane "$lane" "$@"
  read -r p f s reports < <(count "$results/$lane")
  expected=$(if [ "$lane" = v2 ]; then echo $(( $(find tests -name '*.Tests.csproj' | wc -l) )); else echo 3; fi)
  if [ "$reports" -lt "$expected" ]; then
    echo "error: lane $lane: $expected test projects but only $reports reports: a test process crashed or did not run" >&2
    f=$((f + expected - reports))
  fi
  line="lane $lane ($(lane_versions "$lane")): $p passed, $f failed"
  [ "$s" -gt 0 ] && line="$line, $s skipped"
  summary+=("$line")
  passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
done
[ "$passed" -eq 0 ] && { echo "error: no test passed" >&2; status=1; }
[ "$failed" -gt 0 ] && status=1

# What the guarantee tests measured (docs/security.md); DSO_WRITE_FIGURES=1 writes it there.
if [ -d "$results/figures" ]; then
  python3 scripts/figures.py "$results/figures" > "$results/guarantees.md" || true
  if [ "${DSO_WRITE_FIGURES:-}" = "1" ]; then python3 scripts/figures.py "$results/figures" --write docs/security.md >/dev/null || echo "warning: docs/security.md was not rewritten" >&2; fi
  echo "guarantee figures: $results/guarantees.md"
fi

printf '%s\n' "${summary[@]}"
line="$passed passed, $failed failed"
[ "$skipped" -gt 0 ] && line="$line, $skipped skipped"
echo "$line"
exit "$status"
