#!/usr/bin/env bash
# Installs what kiln needs on a fresh Debian machine: its npm packages and, when Dawn finds no WebGPU
# adapter, Mesa's lavapipe Vulkan driver (bookworm's own 22.3 lacks a feature Dawn needs; backports' 25 works).
# With --test also Debian's PyTorch: the default model's cross-check test runs the training tool's own model.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { echo "[setup] $*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else log "need root for: $*"; return 1; fi; }

if [ ! -d node_modules/webgpu ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "installing npm packages"
  npm install --no-audit --no-fund --loglevel=error
fi

if ! node scripts/probe-adapter.mjs >/dev/null 2>&1; then
  log "Dawn found no GPU adapter; installing Mesa's lavapipe Vulkan driver from bookworm-backports"
  src=/etc/apt/sources.list.d/debian.sources
  if [ -f "$src" ] && ! grep -q 'bookworm-backports' "$src"; then
    # Reuse the existing entry's URIs: add the suite to its Suites line.
    as_root sed -i '0,/^Suites: bookworm bookworm-updates$/s//Suites: bookworm bookworm-updates bookworm-backports/' "$src"
  fi
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq -t bookworm-backports mesa-vulkan-drivers libvulkan1 >/dev/null
  node scripts/probe-adapter.mjs >&2 || { log "still no adapter after installing lavapipe"; exit 1; }
fi

if [ "${1:-}" = "--test" ] && ! /usr/bin/python3 -c 'import torch, numpy' >/dev/null 2>&1; then
  log "installing Debian's python3-torch for the training-tool cross-check"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends python3-torch python3-numpy >/dev/null
fi
