#!/usr/bin/env bash
# The test command: installs what it needs (npm packages, a Vulkan driver for Dawn), then runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
files=$(find tests -name '*.test.ts' | sort)
if [ "$#" -gt 0 ]; then files="$*"; fi
exec node --import tsx --test --test-concurrency=1 $files
