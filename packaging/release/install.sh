#!/usr/bin/env bash
# Installs DSO from a release: the native executables (no .NET, no checkout, nothing compiled).
#   curl -fsSL https://github.com/docker-secret-operator/dso/releases/latest/download/install.sh | bash
#       user install: ~/.local/lib/dso, linked from ${DOCKER_CONFIG:-~/.docker}/cli-plugins
#   curl -fsSL …/install.sh | sudo bash
#       system install: /usr/local/lib/dso, linked from /usr/local/lib/docker/cli-plugins, with the
#       man page and shell completions; then `sudo docker dso bootstrap agent` sets up the agent
#   ./install.sh [--user | --system]   the same from an unpacked release (no download)
#   install.sh --from DIR [--user | --system]   from a directory of the executables (scripts/install.sh: a checkout's build)
# Piped, it downloads docker-dso-linux-amd64.tar.gz and SHA256SUMS from DSO_RELEASE_URL (default:
# the project's latest release) and refuses an archive whose checksum does not match.
# Running it again replaces what changed and says what it did.
set -euo pipefail

say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'install.sh: %s\n' "$*" >&2; exit 1; }

mode=auto
from=""
while [ $# -gt 0 ]; do
  case "$1" in
    --user) mode=user; shift ;;
    --system) mode=system; shift ;;
    --from) from="${2:?--from needs a directory}"; shift 2 ;;
    -h|--help) sed -n '2,13p' "${BASH_SOURCE[0]:-/dev/null}" 2>/dev/null | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option '$1' (use --user, --system, --from DIR or nothing)" ;;
  esac
done
if [ "$mode" = auto ]; then
  if [ "$(id -u)" -eq 0 ]; then mode=system; else mode=user; fi
fi
[ "$mode" = user ] || [ "$(id -u)" -eq 0 ] || die "--system installs into /usr/local and needs root (sudo)"
[ "$(uname -s)" = Linux ] || die "DSO's releases are built for Linux; this is $(uname -s)"
case "$(uname -m)" in
  x86_64|amd64) ;;
  *) die "DSO's releases are built for x86-64 Linux; this machine is $(uname -m)" ;;
esac

# Where the executables come from: beside this script (an unpacked release), else a download.
source_dir=""
script="${BASH_SOURCE[0]:-}"
if [ -n "$from" ]; then
  [ -x "$from/docker-dso" ] || die "--from $from: no docker-dso there"
  source_dir="$(cd "$from" && pwd)"
elif [ -n "$script" ] && [ -f "$script" ] && [ -x "$(dirname "$script")/docker-dso" ]; then
  source_dir="$(cd "$(dirname "$script")" && pwd)"
else
  base="${DSO_RELEASE_URL:-https://github.com/docker-secret-operator/dso/releases/latest/download}"
  base="${base%/}"
  work=$(mktemp -d "${TMPDIR:-/tmp}/dso-install.XXXXXX")
  trap 'rm -rf "$work"' EXIT
  fetch() {
    if command -v curl >/dev/null 2>&1; then curl -fsSL --proto '=https,http' -o "$2" "$1"
    elif command -v wget >/dev/null 2>&1; then wget -q -O "$2" "$1"
    else die "neither curl nor wget is installed: install one, or download the release by hand"; fi
  }
  say "downloading $base/docker-dso-linux-amd64.tar.gz"
  fetch "$base/docker-dso-linux-amd64.tar.gz" "$work/docker-dso-linux-amd64.tar.gz" || die "cannot download $base/docker-dso-linux-amd64.tar.gz"
  fetch "$base/SHA256SUMS" "$work/SHA256SUMS" || die "cannot download $base/SHA256SUMS"
  (cd "$work" && grep ' docker-dso-linux-amd64.tar.gz$' SHA256SUMS | sha256sum -c --status -) \
    || die "docker-dso-linux-amd64.tar.gz does not match its checksum in SHA256SUMS: not installed"
  tar -xzf "$work/docker-dso-linux-amd64.tar.gz" -C "$work"
  source_dir=$(find "$work" -mindepth 2 -maxdepth 2 -name docker-dso -type f -printf '%h\n' | head -n 1)
  [ -n "$source_dir" ] || die "the archive holds no docker-dso"
fi

if [ "$mode" = system ]; then
  lib_dir=/usr/local/lib/dso
  plugin_dir=/usr/local/lib/docker/cli-plugins
  share=/usr/local/share
else
  lib_dir="$HOME/.local/lib/dso"
  plugin_dir="${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins"
  share="${XDG_DATA_HOME:-$HOME/.local/share}"
fi

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

# The executable beside its native library (libsodium), the agent and the in-container launcher;
# the plugin directory holds a link to it, which Docker follows.
install_file "$source_dir/docker-dso" "$lib_dir/docker-dso"
install_file "$source_dir/libsodium.so" "$lib_dir/libsodium.so" 0644
install_file "$source_dir/dso-agent" "$lib_dir/dso-agent"
install_file "$source_dir/dso-init" "$lib_dir/dso-init"
# The systemd drop-in proxy.forwarding: kernel needs (docs/rotation.md says how to enable it).
if [ -f "$source_dir/systemd/kernel-forwarding.conf" ]; then
  install_file "$source_dir/systemd/kernel-forwarding.conf" "$lib_dir/systemd/kernel-forwarding.conf" 0644
fi
mkdir -p "$plugin_dir"
if [ "$(readlink "$plugin_dir/docker-dso" 2>/dev/null)" = "$lib_dir/docker-dso" ]; then
  say "unchanged: $plugin_dir/docker-dso -> $lib_dir/docker-dso"
else
  ln -sfn "$lib_dir/docker-dso" "$plugin_dir/docker-dso.tmp.$$" && mv -Tf "$plugin_dir/docker-dso.tmp.$$" "$plugin_dir/docker-dso"
  say "linked: $plugin_dir/docker-dso -> $lib_dir/docker-dso"
fi
# A release carries the man page and completions (a checkout's build does not).
if [ -f "$source_dir/docker-dso.1" ]; then
  install_file "$source_dir/docker-dso.1" "$share/man/man1/docker-dso.1" 0644
  # Completions ask the executable for suggestions: they name it where it is installed.
  completions=$(mktemp -d "${TMPDIR:-/tmp}/dso-completions.XXXXXX")
  for file in docker-dso.bash _docker-dso docker-dso.fish; do
    sed "s:@DSO_LIB@:$lib_dir:g" "$source_dir/completions/$file" > "$completions/$file"
  done
  install_file "$completions/docker-dso.bash" "$share/bash-completion/completions/docker-dso" 0644
  install_file "$completions/_docker-dso" "$share/zsh/site-functions/_docker-dso" 0644
  install_file "$completions/docker-dso.fish" "$share/fish/vendor_completions.d/docker-dso.fish" 0644
  rm -rf "$completions"
fi

if command -v docker >/dev/null 2>&1 && docker dso version >/dev/null 2>&1; then
  say "docker dso is ready: $(docker dso version | head -n 1)"
else
  say "installed; 'docker dso version' does not answer yet (is docker installed, and $plugin_dir one of its plugin directories?)"
fi
if [ -n "$from" ]; then
  exit 0
elif [ "$mode" = system ]; then
  say "next: 'sudo docker dso bootstrap agent' (agent mode, under systemd) or 'docker dso setup --mode local'"
else
  say "next: 'docker dso setup --mode local', then 'docker dso init'"
fi
