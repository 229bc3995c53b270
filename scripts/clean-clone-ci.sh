#!/usr/bin/env bash
# Run CI exactly as CI does: a fresh clone of the committed main, then .ci/run.
# A green run in the work tree can hide a missing install step; this cannot.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
dir="$(mktemp -d)"
git clone -q "$repo" "$dir/fresh"
cd "$dir/fresh"
echo "clean clone in $dir/fresh"
time bash .ci/run
