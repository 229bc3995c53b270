#!/usr/bin/env bash
# Fetch htmx (BSD-0 licensed) from the npm registry into the ops centre's static files.
# Usage: fetch-htmx.sh VERSION DEST
set -euo pipefail
version="$1"; dest="$2"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "htmx.org@$version" >/dev/null)
tar -xzf "$work"/htmx.org-"$version".tgz -C "$work" package/dist/htmx.min.js package/LICENSE
mkdir -p "$(dirname "$dest")"
cp "$work/package/LICENSE" "$(dirname "$dest")/htmx-LICENSE"
cp "$work/package/dist/htmx.min.js" "$dest"
echo "htmx $version: $dest"
