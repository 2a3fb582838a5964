#!/usr/bin/env bash
# Builds the root file system of a Debian 12 "production host" for the package tests: systemd as
# PID 1, Docker Engine (Debian's docker.io, a service systemd starts) with Compose v2 as a CLI
# plugin, and what the tests drive it with. Tests import it with `docker import` and run it
# privileged, so the package's units run under a real systemd, next to a real engine of the host's
# own (tests/Dso.Package.Tests/SystemdHostTests.cs).
#   scripts/build-systemd-host.sh   → artifacts/systemd-host/rootfs.tar (kept while this script and its package list are unchanged)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$DSO_ROOT"

packages=systemd,systemd-sysv,dbus,procps,iproute2,iptables,nftables,kmod,docker.io,busybox-static,ca-certificates,curl,python3,adduser,passwd,libssl3,libstdc++6,util-linux
out="$DSO_ROOT/artifacts/systemd-host"
stamp="$(sha256sum "${BASH_SOURCE[0]}" | cut -c1-16)"
if [ -f "$out/rootfs.tar" ] && [ "$(cat "$out/stamp" 2>/dev/null)" = "$stamp" ]; then
  say "up to date: $out/rootfs.tar"
  exit 0
fi

ensure_packages debootstrap
ensure_trixie_engine
root=$(mktemp -d /var/tmp/dso-systemd-host.XXXXXX)
# debootstrap mounts proc and sys inside the tree; never leave them mounted (or the tree behind).
cleanup() {
  umount -l "$root/proc" "$root/sys" 2>/dev/null || true
  rm -rf --one-file-system "$root"
}
trap cleanup EXIT
say "debootstrap bookworm with systemd and docker.io into $root (a few minutes; log /tmp/dso-systemd-host.log)"
as_root debootstrap --variant=minbase --include="$packages" bookworm "$root" http://deb.debian.org/debian >/tmp/dso-systemd-host.log 2>&1 \
  || die "debootstrap failed; see /tmp/dso-systemd-host.log"
umount -l "$root/proc" "$root/sys" 2>/dev/null || true

# Compose v2, as most hosts have it, beside Debian's engine.
install -D -m 0755 "$LANE_ROOT/trixie/usr/libexec/docker/cli-plugins/docker-compose" "$root/usr/libexec/docker/cli-plugins/docker-compose"
# A console-less container: no getty; the engine keeps its data on the volume the test mounts.
rm -f "$root/etc/systemd/system/getty.target.wants/"* 2>/dev/null || true
echo dso-host > "$root/etc/hostname"
# Addresses apart from the engine this host runs on (its own bridge is 172.17/16 too).
mkdir -p "$root/etc/docker"
echo '{"bip": "10.213.0.1/24", "default-address-pools": [{"base": "10.214.0.0/16", "size": 24}]}' > "$root/etc/docker/daemon.json"

mkdir -p "$out"
tar --numeric-owner -C "$root" -cf "$out/rootfs.tar.tmp" .
mv -f "$out/rootfs.tar.tmp" "$out/rootfs.tar"
echo "$stamp" > "$out/stamp"
say "built $out/rootfs.tar ($(du -h "$out/rootfs.tar" | cut -f1))"
