#!/usr/bin/env bash
# Runs the whole test suite against the real Docker engine and real Compose, installing and
# starting what is missing. The last line is "N passed, N failed" computed from the TRX reports.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$DSO_ROOT"

ensure_dotnet
ensure_packages docker.io docker-compose busybox-static clang lld systemd python3 python3-hvac zsh fish man-db dpkg-dev
ensure_engine
# The official provider clients that check the fake servers (tests/clients): the AWS SDK for JavaScript.
command -v node >/dev/null 2>&1 || ensure_packages nodejs
command -v npm >/dev/null 2>&1 || ensure_packages npm
say "installing the provider client checks (npm ci, tests/clients)"
npm ci --prefix tests/clients --no-audit --no-fund --loglevel=error >/tmp/dso-npm.log 2>&1 \
  || die "npm ci in tests/clients failed; see /tmp/dso-npm.log"

results="$DSO_ROOT/artifacts/test-results"
rm -rf "$results"
mkdir -p "$results"
export DSO_TEST_RUN_ID="${DSO_TEST_RUN_ID:-$(date +%s)-$$}"

# The native executables first: the build puts dso-agent beside each test's docker-dso.
bash scripts/build-native.sh --with-testapp
say "building (Release, warnings are errors)"
dotnet build Dso.slnx -c Release -nologo -v quiet -clp:ErrorsOnly

bash scripts/build-deb.sh --no-native >/dev/null
# The Swarm tests put the engine in Swarm mode, and the package tests install the .deb on this
# machine (/usr, /etc/dso): built here, each run alone after the solution's tests.
dotnet build tests/Dso.Swarm.Tests -c Release -nologo -v quiet -clp:ErrorsOnly
dotnet build tests/Dso.Package.Tests -c Release -nologo -v quiet -clp:ErrorsOnly

say "running tests (run id $DSO_TEST_RUN_ID)"
status=0
dotnet test --solution Dso.slnx -c Release --no-build --report-trx --results-directory "$results" "$@" || status=$?
swarm_before=$(docker info --format '{{.Swarm.LocalNodeState}}' 2>/dev/null || true)
dotnet test --project tests/Dso.Swarm.Tests -c Release --no-build --report-trx --results-directory "$results" "$@" || status=$?
# The Swarm tests leave a swarm they made; make sure of it even when their process died.
if [ "$swarm_before" != "active" ] && [ "$(docker info --format '{{.Swarm.LocalNodeState}}' 2>/dev/null || true)" = "active" ]; then
  docker swarm leave --force >/dev/null 2>&1 || true
fi
dotnet test --project tests/Dso.Package.Tests -c Release --no-build --report-trx --results-directory "$results" "$@" || status=$?

# Leave the engine as we found it: containers from test images or labelled by this run, the
# networks compose made for test projects, the test images, and the RAM directories of tests.
leftovers=$( (docker ps -aq --filter "label=dso.test.run=$DSO_TEST_RUN_ID"; docker ps -aq --filter "label=dso.test=true") 2>/dev/null | sort -u || true)
[ -n "$leftovers" ] && docker rm -f $leftovers >/dev/null 2>&1 || true
networks=$(docker network ls -q --filter "name=dsot" 2>/dev/null || true)
[ -n "$networks" ] && docker network rm $networks >/dev/null 2>&1 || true
rm -rf /dev/shm/dso-test-* /dev/shm/dso-store-test-* /dev/shm/dso-prep-test-* 2>/dev/null || true
if [ "${DSO_TEST_KEEP_IMAGES:-}" != "1" ]; then
  images=$(docker images -q --filter "label=dso.test=true" 2>/dev/null | sort -u || true)
  [ -n "$images" ] && docker rmi -f $images >/dev/null 2>&1 || true
fi

projects=$(find tests -name '*.Tests.csproj' | wc -l)
reports=$(find "$results" -name '*.trx' | wc -l)
read -r passed failed skipped < <(
  cat "$results"/*.trx 2>/dev/null | grep -o '<Counters [^>]*>' | awk '
    { for (i = 1; i <= NF; i++) { split($i, kv, "="); gsub(/"/, "", kv[2]);
        if (kv[1] == "passed") p += kv[2];
        if (kv[1] == "failed" || kv[1] == "error" || kv[1] == "timeout" || kv[1] == "aborted") f += kv[2];
        if (kv[1] == "notExecuted") s += kv[2]; } }
    END { printf "%d %d %d\n", p, f, s }')
if [ "$reports" -lt "$projects" ]; then
  echo "error: $projects test projects but only $reports reports: a test process crashed or did not run" >&2
  failed=$((failed + projects - reports))
fi
[ "$passed" -eq 0 ] && { echo "error: no test passed" >&2; status=1; }
[ "$failed" -gt 0 ] && status=1

# What the guarantee tests measured (docs/security.md); DSO_WRITE_FIGURES=1 writes it there.
if [ -d "$results/figures" ]; then
  python3 scripts/figures.py "$results/figures" > "$results/guarantees.md" || true
  if [ "${DSO_WRITE_FIGURES:-}" = "1" ]; then python3 scripts/figures.py "$results/figures" --write docs/security.md >/dev/null || echo "warning: docs/security.md was not rewritten" >&2; fi
  echo "guarantee figures: $results/guarantees.md"
fi

line="$passed passed, $failed failed"
[ "$skipped" -gt 0 ] && line="$line, $skipped skipped"
echo "$line"
exit "$status"
