#!/usr/bin/env bash
# The station hub's store tests run a throwaway PostgreSQL (test/harness/postgres.ts) from Debian's server
# binaries, which are not on PATH: /usr/lib/postgresql/<version>/bin. Installs them (with pg_trgm, in
# postgresql-contrib on older releases) when they are missing and this runs as root; otherwise says exactly
# what to install.
set -euo pipefail
if compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; then exit 0; fi
if [ "$(id -u)" != 0 ]; then
  echo "install-postgres: no /usr/lib/postgresql/*/bin/initdb; run: sudo apt-get install postgresql postgresql-contrib" >&2
  exit 1
fi
echo "install-postgres: installing postgresql and postgresql-contrib from Debian" >&2
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y -qq --no-install-recommends postgresql postgresql-contrib >/dev/null; then
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends postgresql postgresql-contrib >/dev/null
fi
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || { echo "install-postgres: postgresql did not install /usr/lib/postgresql/*/bin/initdb" >&2; exit 1; }
