#!/usr/bin/env bash
# Starts a throwaway PostgreSQL cluster on a free loopback port and prints
# "export STAMP_TEST_POSTGRES_DSN=..." and "export STAMP_TEST_PG_DIR=...".
# Stop it with: scripts/pg-throwaway.sh stop DIR
set -euo pipefail

find_bin() {
  local name=$1
  if command -v "$name" >/dev/null 2>&1; then command -v "$name"; return; fi
  local c
  for c in /usr/lib/postgresql/*/bin/"$name"; do
    [ -x "$c" ] && { echo "$c"; return; }
  done
  return 1
}

if [ "${1:-}" = stop ]; then
  dir=$2
  PG_CTL=$(find_bin pg_ctl)
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$PG_CTL" -D "$dir/data" -m fast stop >/dev/null 2>&1 || true
  else "$PG_CTL" -D "$dir/data" -m fast stop >/dev/null 2>&1 || true; fi
  rm -rf "$dir"
  exit 0
fi

INITDB=$(find_bin initdb) || { echo "pg-throwaway: initdb not found" >&2; exit 3; }
PG_CTL=$(find_bin pg_ctl) || { echo "pg-throwaway: pg_ctl not found" >&2; exit 3; }

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
dir=$(mktemp -d /tmp/stamp-pg.XXXXXX)
chmod 755 "$dir"
as_pg=()
if [ "$(id -u)" = 0 ]; then
  chown postgres: "$dir"
  as_pg=(runuser -u postgres --)
fi
"${as_pg[@]}" "$INITDB" -D "$dir/data" -U stamp --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
  || { cat "$dir/initdb.log" >&2; exit 4; }
cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
max_connections = 300
shared_buffers = 256MB
fsync = on
synchronous_commit = on
CONF
"${as_pg[@]}" "$PG_CTL" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null \
  || { cat "$dir/server.log" >&2; exit 5; }
echo "export STAMP_TEST_POSTGRES_DSN='postgres://stamp@127.0.0.1:$port/postgres?sslmode=disable'"
echo "export STAMP_TEST_PG_DIR='$dir'"
