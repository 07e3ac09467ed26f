#!/usr/bin/env bash
# The benchmark command: installs what it needs (npm packages, a Vulkan driver for Dawn), then runs the
# kernel benchmark (kiln autotuned vs naive vs TF.js WebGPU). Extra arguments go to it, e.g. --quick.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec npx tsx bench/kernels.ts "$@"
