#!/usr/bin/env bash
# The Debian packages the test suite drives for real: PostgreSQL (the ops centre's
# store on a production database), Chromium (browser tests), Prometheus (promtool and a
# server that scrapes a worker) and kcat (a Kafka client that is not ours).
# Installs what is missing when it can (root and apt-get); otherwise says what is missing,
# and the tests that need it fail with that name in their message.
set -euo pipefail

need=()
command -v chromium >/dev/null || need+=(chromium)
command -v promtool >/dev/null || need+=(prometheus)
command -v kcat >/dev/null || need+=(kcat)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)

if [ ${#need[@]} -eq 0 ]; then
    exit 0
fi
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    echo "installing Debian packages: ${need[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
else
    echo "missing Debian packages (install them as root): ${need[*]}" >&2
fi
