#!/usr/bin/env bash
# Whole-server SMTP throughput with `stamp load smtp` on SQLite (and on
# PostgreSQL when STAMP_TEST_POSTGRES_DSN is set, or a throwaway cluster can
# be started), for 10 KB and 100 KB messages over 8 connections. Prints one
# line per run; BENCHMARKS.md records the figures with this command.
#
#   scripts/bench.sh [messages-10KB] [messages-100KB]
set -euo pipefail
cd "$(dirname "$0")/.."
n10=${1:-5000}
n100=${2:-1000}
conns=${STAMP_BENCH_CONNECTIONS:-8}
work=$(mktemp -d /tmp/stamp-bench.XXXXXX)
bin=$work/stamp
go build -o "$bin" .

pg_dir=""
cleanup() {
  [ -n "${srv_pid:-}" ] && kill "$srv_pid" 2>/dev/null || true
  [ -n "${dns_pid:-}" ] && kill "$dns_pid" 2>/dev/null || true
  [ -n "$pg_dir" ] && scripts/pg-throwaway.sh stop "$pg_dir"
  rm -rf "$work"
}
trap cleanup EXIT

# A loopback DNS server answering for the load generator's sender domain, so
# the SPF/DMARC checks run for real without reaching the internet.
dns_yaml=""
dnsmasq=$(command -v dnsmasq || echo /usr/sbin/dnsmasq)
if [ -x "$dnsmasq" ]; then
  dport=$(python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  "$dnsmasq" --no-daemon --port="$dport" --listen-address=127.0.0.1 --bind-interfaces --no-resolv --no-hosts \
    --local=/example/ --local=/test/ \
    --txt-record=sender.example,"v=spf1 ip4:127.0.0.1 -all" --txt-record=_dmarc.sender.example,"v=DMARC1; p=none" \
    >"$work/dnsmasq.log" 2>&1 &
  dns_pid=$!
  dns_yaml="outbound: {dns_server: \"127.0.0.1:$dport\"}"
else
  echo "bench: dnsmasq missing: SPF/DMARC lookups use the system resolver"
fi

run_one() { # name storage-yaml [extra-yaml]
  local name=$1 storage=$2 extra=${3:-} dir=$work/$1
  mkdir -p "$dir"
  cat >"$dir/stamp.yaml" <<YAML
hostname: bench.test
storage: $storage
listen: {smtp: "127.0.0.1:0", submission: "", submissions: "", imap: "", imaps: "", pop3: "", pop3s: "", http: ""}
limits: {smtp_rate_per_minute: 10000000, max_connections: 10000}
log: {level: warn}
$dns_yaml
$extra
YAML
  (cd "$dir" && echo 'bench password' | "$bin" user add bench@bench.test --password-stdin --config stamp.yaml >/dev/null)
  (cd "$dir" && exec "$bin" serve --config stamp.yaml >"$dir/out" 2>"$dir/err") &
  srv_pid=$!
  for _ in $(seq 1 200); do grep -q '^ready' "$dir/out" 2>/dev/null && break; sleep 0.1; done
  local addr
  addr=$(awk '$1=="smtp"{print $2}' "$dir/out")
  for spec in "10240 $n10" "102400 $n100"; do
    set -- $spec
    printf '%-15s %3d KB x %5d, %d connections: ' "$name" $(($1/1024)) "$2" "$conns"
    "$bin" load smtp --addr "$addr" --to bench@bench.test --connections "$conns" --messages "$2" --size "$1"
  done
  kill "$srv_pid"; wait "$srv_pid" 2>/dev/null || true; srv_pid=""
}

run_one sqlite "{database: sqlite}"
run_one sqlite-nobayes "{database: sqlite}" "filters: {bayes: false}"
if [ -z "${STAMP_TEST_POSTGRES_DSN:-}" ] && out=$(scripts/pg-throwaway.sh 2>/dev/null); then
  eval "$out"; pg_dir=$STAMP_TEST_PG_DIR
fi
if [ -n "${STAMP_TEST_POSTGRES_DSN:-}" ]; then
  db="stamp_bench_$$"
  psql -q "$STAMP_TEST_POSTGRES_DSN" -c "CREATE DATABASE $db" >/dev/null
  dsn=$(python3 -c "import sys,urllib.parse as u; p=u.urlparse(sys.argv[1]); print(p._replace(path='/$db').geturl())" "$STAMP_TEST_POSTGRES_DSN")
  run_one postgres "{database: postgres, dsn: \"$dsn\"}"
  psql -q "$STAMP_TEST_POSTGRES_DSN" -c "DROP DATABASE $db WITH (FORCE)" >/dev/null || true
else
  echo "postgres: SKIPPED (no STAMP_TEST_POSTGRES_DSN and no initdb)"
fi
