#!/usr/bin/env bash
# Builds DSO (Release) and installs `docker-dso` as a Docker CLI plugin, so `docker dso …` works.
#   scripts/install.sh            user install: ~/.local/lib/dso, linked from ${DOCKER_CONFIG:-~/.docker}/cli-plugins
#   scripts/install.sh --system   system install: /usr/local/lib/dso, linked from /usr/local/lib/docker/cli-plugins (root)
# Running it again replaces what changed and says what it did.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

mode=user
for arg in "$@"; do
  case "$arg" in
    --system) mode=system ;;
    -h|--help) sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option '$arg' (use --system or nothing)" ;;
  esac
done

if [ "$mode" = system ]; then
  plugin_dir=/usr/local/lib/docker/cli-plugins
  lib_dir=/usr/local/lib/dso
  [ "$(id -u)" -eq 0 ] || die "--system installs into /usr/local and needs root (sudo $0 --system)"
else
  plugin_dir="${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins"
  lib_dir="$HOME/.local/lib/dso"
fi

ensure_dotnet
# The native executables (NativeAOT): docker-dso, dso-agent, dso-init, and libsodium.so beside them.
bash "$DSO_ROOT/scripts/build-native.sh"
native="$DSO_ROOT/artifacts/native"

# install_file SRC DEST [MODE]: copies with MODE (0755) unless DEST already has the same bytes.
install_file() {
  local src="$1" dest="$2" mode="${3:-0755}"
  mkdir -p "$(dirname "$dest")"
  if [ -f "$dest" ] && cmp -s "$src" "$dest"; then
    say "unchanged: $dest"
  else
    local verb=installed
    [ -e "$dest" ] && verb=updated
    install -m "$mode" "$src" "$dest.tmp.$$" && mv -f "$dest.tmp.$$" "$dest"
    say "$verb: $dest"
  fi
}

# The executable lives beside its native library (libsodium, for passphrase vaults), the agent and
# the launcher; the plugin directory holds a link to it, which Docker follows.
install_file "$native/docker-dso" "$lib_dir/docker-dso"
install_file "$native/libsodium.so" "$lib_dir/libsodium.so" 0644
mkdir -p "$plugin_dir"
if [ "$(readlink "$plugin_dir/docker-dso" 2>/dev/null)" = "$lib_dir/docker-dso" ]; then
  say "unchanged: $plugin_dir/docker-dso -> $lib_dir/docker-dso"
else
  ln -sfn "$lib_dir/docker-dso" "$plugin_dir/docker-dso.tmp.$$" && mv -Tf "$plugin_dir/docker-dso.tmp.$$" "$plugin_dir/docker-dso"
  say "linked: $plugin_dir/docker-dso -> $lib_dir/docker-dso"
fi

# dso-init, the static launcher that runs first in every container DSO starts, and dso-agent, the
# agent daemon that `docker dso agent` hands over to.
install_file "$native/dso-init" "$lib_dir/dso-init"
install_file "$native/dso-agent" "$lib_dir/dso-agent"

if command -v docker >/dev/null 2>&1; then
  docker dso version >/dev/null 2>&1 && say "docker dso is ready: $(docker dso version --json)" \
    || say "installed, but 'docker dso version' failed; is $plugin_dir a plugin directory of this docker CLI?"
fi
