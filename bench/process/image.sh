# Sourced by the process benchmarks: builds dso-bench/busybox:1 (busybox-static, imported) if missing.
# shellcheck shell=bash
ensure_bench_image() {
  local image=dso-bench/busybox:1 rootfs
  docker image inspect "$image" >/dev/null 2>&1 && return 0
  rootfs=$(mktemp -d)
  mkdir -p "$rootfs/bin"
  cp /bin/busybox "$rootfs/bin/busybox"
  for applet in sh sleep; do ln -s busybox "$rootfs/bin/$applet"; done
  tar -C "$rootfs" -c . | docker import -c 'CMD ["/bin/sh"]' -c 'LABEL dso.test=true' - "$image" >/dev/null
  rm -rf "$rootfs"
}
