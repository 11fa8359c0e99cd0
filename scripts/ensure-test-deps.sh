#!/usr/bin/env bash
# Makes sure what the tests need is on this machine: a PostgreSQL server binary (the tests start
# their own throwaway server on a free loopback port). Installs it from Debian's packages when
# running as root; otherwise says exactly what to install. TEST_DATABASE_URL skips all of this.
set -euo pipefail

find_initdb() {
  command -v initdb 2>/dev/null || ls /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -n 1
}

if [ -n "${TEST_DATABASE_URL:-}" ]; then
  echo "tests use the PostgreSQL server at TEST_DATABASE_URL"
  exit 0
fi

if [ -z "$(find_initdb)" ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
    echo "installing PostgreSQL from Debian's packages for the tests..."
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq postgresql >/dev/null
  else
    cat >&2 <<'MSG'
The tests need a PostgreSQL server binary (initdb, pg_ctl). Install it, then run npm test again:
    sudo apt-get install -y postgresql        # Debian/Ubuntu
    brew install postgresql@16                # macOS
Or point the tests at a server you already have:
    TEST_DATABASE_URL=postgres://user:pass@127.0.0.1:5432/postgres npm test
MSG
    exit 1
  fi
fi
echo "PostgreSQL for tests: $(find_initdb)"
