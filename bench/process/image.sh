# Sourced by the process benchmarks: builds the benchmark images if missing (busybox-static and the
# static test application, imported; nothing is pulled):
#   dso-bench/busybox:1   busybox with sh and sleep
#   dso-bench/app:1       the test application (tests/Dso.TestApp) as the only file
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

ensure_bench_images() {
  ensure_bench_image
  local rootfs sum
  [ -x "$DSO_ROOT/artifacts/native/dso-testapp" ] || bash "$DSO_ROOT/scripts/build-native.sh" --with-testapp
  # Rebuilt when the test application changed since the image was made (its checksum is a label).
  sum=$(sha256sum "$DSO_ROOT/artifacts/native/dso-testapp" | cut -c1-16)
  if [ "$(docker image inspect --format '{{index .Config.Labels "dso.bench.app"}}' dso-bench/app:1 2>/dev/null)" != "$sum" ]; then
    rootfs=$(mktemp -d)
    cp "$DSO_ROOT/artifacts/native/dso-testapp" "$rootfs/app"
    tar -C "$rootfs" -c . | docker import -c 'ENTRYPOINT ["/app"]' -c 'LABEL dso.test=true' -c "LABEL dso.bench.app=$sum" - dso-bench/app:1 >/dev/null
    rm -rf "$rootfs"
  fi
}
