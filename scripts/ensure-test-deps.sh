#!/usr/bin/env bash
# Makes sure what the tests need is on this machine: PostgreSQL, Redis and ClickHouse server binaries
# (the tests start their own throwaway servers on free loopback ports) and the Python virtualenv
# with the pinned Dagster, and chromium for the page's browser test. Installs Debian packages when running as root; otherwise says exactly
# what to install. TEST_DATABASE_URL / TEST_REDIS_URL / TEST_CLICKHOUSE_URL skip the matching server.
set -euo pipefail
cd "$(dirname "$0")/.."

find_initdb() {
  command -v initdb 2>/dev/null || ls /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -n 1
}

missing=()
[ -n "${TEST_DATABASE_URL:-}" ] || [ -n "$(find_initdb)" ] || missing+=(postgresql)
[ -n "${TEST_REDIS_URL:-}" ] || command -v redis-server >/dev/null || missing+=(redis-server)
[ -n "${TEST_CLICKHOUSE_URL:-}" ] || command -v clickhouse-server >/dev/null || missing+=(clickhouse-server)
command -v python3 >/dev/null || missing+=(python3 python3-venv)
# The web page's browser test drives Debian's chromium (Playwright's own download fails offline).
[ -n "${TEST_CHROMIUM:-}" ] || command -v chromium >/dev/null || missing+=(chromium)
# The shard-image test builds with podman (no Docker engine needed). It skips, saying so, without
# podman, so podman is installed where this script can install packages and only mentioned elsewhere.
if ! command -v podman >/dev/null; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
    missing+=(podman)
  else
    echo "note: podman is not installed, so test/e2e/kubernetes-image.test.ts will be skipped (sudo apt-get install -y podman)" >&2
  fi
fi

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
    echo "installing ${missing[*]} from Debian's packages for the tests..."
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    cat >&2 <<MSG
The tests need: ${missing[*]}. Install them, then run npm test again:
    sudo apt-get install -y ${missing[*]}        # Debian/Ubuntu
Or point the tests at servers you already have:
    TEST_DATABASE_URL=postgres://user:pass@127.0.0.1:5432/postgres \\
    TEST_REDIS_URL=redis://127.0.0.1:6379 \\
    TEST_CLICKHOUSE_URL=clickhouse://default:@127.0.0.1:9000/default npm test
MSG
    exit 1
  fi
fi

bash scripts/python-env.sh
echo "test dependencies ready: PostgreSQL ($(find_initdb || echo "$TEST_DATABASE_URL")), Redis, ClickHouse, chromium, $(command -v podman >/dev/null && echo podman || echo "no podman"), .venv with Dagster"
