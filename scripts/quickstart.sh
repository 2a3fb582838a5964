#!/usr/bin/env bash
# The quickstart: installs what DSO needs, installs `docker dso`, creates a local vault with two
# demo secrets, starts examples/quickstart with them, and shows where the values are (inside the
# container) and where they are not (docker inspect, the disk). Safe to run again.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ensure_dotnet
ensure_packages docker.io docker-compose busybox-static clang lld
ensure_engine
bash "$DSO_ROOT/scripts/install.sh"

# The demo image: Debian's static busybox, imported (nothing is pulled).
image=dso-quickstart/busybox:1
if ! docker image inspect "$image" >/dev/null 2>&1; then
  say "building the demo image $image from busybox-static"
  rootfs=$(mktemp -d)
  mkdir -p "$rootfs/bin" "$rootfs/tmp" "$rootfs/etc" "$rootfs/proc" "$rootfs/sys" "$rootfs/dev" "$rootfs/run"
  cp /bin/busybox "$rootfs/bin/busybox"
  for applet in $(/bin/busybox --list); do [ "$applet" = busybox ] || ln -s busybox "$rootfs/bin/$applet"; done
  echo 'root:x:0:0:root:/root:/bin/sh' > "$rootfs/etc/passwd"
  tar -C "$rootfs" -c . | docker import -c 'CMD ["/bin/sh"]' - "$image" >/dev/null
  rm -rf "$rootfs"
fi

dso_home="${DSO_HOME:-$HOME/.dso}"
if [ ! -f "${DSO_VAULT:-$dso_home/vault.dso}" ]; then
  say "creating your local vault"
  docker dso init
fi
for name in db_password api_key; do
  if ! docker dso secret get "quickstart/$name" --json >/dev/null 2>&1; then
    say "storing a random demo secret quickstart/$name"
    head -c 18 /dev/urandom | base64 | tr -d '\n/+=' | docker dso secret set "quickstart/$name"
  fi
done

cd "$DSO_ROOT/examples/quickstart"
say "docker dso up -d (in examples/quickstart)"
docker dso up -d
project="${COMPOSE_PROJECT_NAME:-quickstart}"
container=$(docker ps -q --filter "label=com.docker.compose.project=$project" --filter label=com.docker.compose.service=app)

echo
echo "Inside the container, the application (PID 1) sees the values:"
docker exec "$container" sh -c 'tr "\0" "\n" < /proc/1/environ | grep -E "^(DB_PASSWORD|API_KEY_FILE)=" | sed "s/^/  /"; f=$(tr "\0" "\n" < /proc/1/environ | sed -n "s/^API_KEY_FILE=//p"); echo "  content of $f: $(cat "$f")"'
echo "(a 'docker exec' shell does not start through DSO's launcher, so it sees the references, not the values)"
echo
echo "docker inspect shows references only:"
docker inspect --format '{{range .Config.Env}}  {{println .}}{{end}}' "$container" | grep -E 'DB_PASSWORD|API_KEY_FILE'
echo "The values are in a RAM directory (tmpfs), read-only in the container:"
docker inspect --format '{{range .Mounts}}{{if eq .Destination "/run/secrets/dso"}}  {{.Source}} -> {{.Destination}} (rw={{.RW}}){{end}}{{end}}' "$container"
echo
echo "Compare with: docker dso secret get quickstart/db_password"
echo "Stop it with: (cd examples/quickstart && docker dso down)"
