#!/usr/bin/env bash
# Whole-server SMTP throughput with `stamp load smtp` on SQLite (and on
# PostgreSQL when STAMP_TEST_POSTGRES_DSN is set, or a throwaway cluster can
# be started), for 10 KB and 100 KB messages over 8 connections to the MX
# port with every check on, and submission (STARTTLS, AUTH PLAIN, 10 KB to a
# local user; each connection authenticates once and sends many). With STAMP_BENCH_PEER=/path/to/maddy the same submission load
# also runs against that peer Go mail server (maddy 0.8, SQLite storage,
# built outside the clone), in the same run. Prints one line per run;
# BENCHMARKS.md records the figures with this command. After each load it
# prints the CPU time per message of `stamp serve` and, when this script
# started the PostgreSQL cluster, of every PostgreSQL process (from
# /proc/PID/stat), so the figures say where the work goes.
#
#   scripts/bench.sh [messages-10KB] [messages-100KB] [messages-submission]
#   STAMP_BENCH_ONLY="sqlite postgres peer" ...   choose runs (default all)
#   STAMP_BENCH_PROFILE=DIR ...   also write a CPU profile of each server to DIR/NAME.pprof
#   STAMP_BENCH_TEXT=FILE ...     the messages' body text (load smtp --text; scripts/bench-text.py writes real mail's)
#   STAMP_BENCH_BIN=path ...      run that stamp binary instead of building this tree (before/after)
set -euo pipefail
cd "$(dirname "$0")/.."
n10=${1:-5000}
n100=${2:-1000}
nsub=${3:-$n10}
only=" ${STAMP_BENCH_ONLY:-sqlite sqlite-nobayes postgres peer} "
conns=${STAMP_BENCH_CONNECTIONS:-8}
work=$(mktemp -d /tmp/stamp-bench.XXXXXX)
bin=$work/stamp
if [ -n "${STAMP_BENCH_BIN:-}" ]; then cp "$STAMP_BENCH_BIN" "$bin"; else go build -o "$bin" .; fi

pg_dir=""
cleanup() {
  [ -n "${srv_pid:-}" ] && kill "$srv_pid" 2>/dev/null || true
  [ -n "${dns_pid:-}" ] && kill "$dns_pid" 2>/dev/null || true
  [ -n "${peer_pid:-}" ] && kill "$peer_pid" 2>/dev/null || true
  [ -n "$pg_dir" ] && scripts/pg-throwaway.sh stop "$pg_dir"
  rm -rf "$work"
}
trap cleanup EXIT

# A loopback DNS server answering for the load generator's sender domain, so
# the SPF/DMARC checks run for real without reaching the internet.
# shellcheck source=scripts/bench-dns.sh
. scripts/bench-dns.sh
start_bench_dns "$work"

# ticks PID...: CPU time (clock ticks) used by the processes and their
# reaped children.
ticks() {
  local t=0 p v
  for p in "$@"; do
    v=$(awk '{print $14+$15+$16+$17}' "/proc/$p/stat" 2>/dev/null) || v=0
    t=$((t + ${v:-0}))
  done
  echo "$t"
}
# pg_pids: the postmaster of the cluster this script started and its children.
pg_pids() {
  [ -n "$pg_dir" ] && [ -r "$pg_dir/data/postmaster.pid" ] || return 0
  local pm
  pm=$(head -1 "$pg_dir/data/postmaster.pid")
  echo "$pm" $(pgrep -P "$pm" || true)
}
# load NAME ARGS...: one `stamp load smtp` run, then the CPU per message.
load() {
  local name=$1 n=$2
  shift 2
  local hz s0 p0 s1 p1 pids
  hz=$(getconf CLK_TCK)
  pids=$(pg_pids)
  s0=$(ticks "$srv_pid")
  p0=$(ticks $pids)
  "$bin" load smtp --messages "$n" "$@" ${STAMP_BENCH_TEXT:+--text "$STAMP_BENCH_TEXT"}
  s1=$(ticks "$srv_pid")
  p1=$(ticks $pids)
  if [ -n "$pids" ]; then
    awk -v s=$((s1 - s0)) -v p=$((p1 - p0)) -v n="$n" -v hz="$hz" -v name="$name" \
      'BEGIN { printf "%-15s   cpu per message: stamp %.2f ms, postgres %.2f ms\n", name, s*1000/hz/n, p*1000/hz/n }'
  else
    awk -v s=$((s1 - s0)) -v n="$n" -v hz="$hz" -v name="$name" -v who="${who:-stamp}" \
      'BEGIN { printf "%-15s   cpu per message: %s %.2f ms\n", name, who, s*1000/hz/n }'
  fi
}

run_one() { # name storage-yaml [extra-yaml]
  local name=$1 storage=$2 extra=${3:-} dir=$work/$1
  mkdir -p "$dir"
  cat >"$dir/stamp.yaml" <<YAML
hostname: bench.test
storage: $storage
listen: {smtp: "127.0.0.1:0", submission: "127.0.0.1:0", submissions: "", imap: "", imaps: "", pop3: "", pop3s: "", http: "", managesieve: ""}
limits: {smtp_rate_per_minute: 10000000, max_connections: 10000, max_connections_per_ip: 10000, send_per_hour: 100000000, send_per_day: 100000000}
log: {level: warn}
$dns_yaml
$extra
YAML
  (cd "$dir" && echo 'bench password' | "$bin" user add bench@bench.test --password-stdin --config stamp.yaml >/dev/null)
  local prof=()
  [ -n "${STAMP_BENCH_PROFILE:-}" ] && mkdir -p "$STAMP_BENCH_PROFILE" && prof=(--cpuprofile "$(cd "$STAMP_BENCH_PROFILE" && pwd)/$name.pprof")
  (cd "$dir" && exec "$bin" serve --config stamp.yaml "${prof[@]}" >"$dir/out" 2>"$dir/err") &
  srv_pid=$!
  for _ in $(seq 1 200); do grep -q '^ready' "$dir/out" 2>/dev/null && break; sleep 0.1; done
  local addr sub
  addr=$(awk '$1=="smtp"{print $2}' "$dir/out")
  sub=$(awk '$1=="submission"{print $2}' "$dir/out")
  for spec in "10240 $n10" "102400 $n100"; do
    set -- $spec
    [ "$2" -gt 0 ] || continue
    printf '%-15s MX %3d KB x %5d, %d connections: ' "$name" $(($1/1024)) "$2" "$conns"
    load "$name" "$2" --addr "$addr" --to bench@bench.test --connections "$conns" --size "$1"
  done
  if [ "$nsub" -gt 0 ]; then
    printf '%-15s submission 10 KB x %5d, %d connections: ' "$name" "$nsub" "$conns"
    load "$name" "$nsub" --addr "$sub" --starttls --username bench@bench.test --password 'bench password' \
      --from bench@bench.test --to bench@bench.test --connections "$conns" --size 10240
  fi
  kill "$srv_pid"; wait "$srv_pid" 2>/dev/null || true; srv_pid=""
}

# run_peer: the same submission load against maddy (STAMP_BENCH_PEER).
run_peer() {
  local dir=$work/peer port
  mkdir -p "$dir/state" "$dir/run"
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=peer.test \
    -keyout "$dir/key.pem" -out "$dir/cert.pem" >/dev/null 2>&1
  cat >"$dir/maddy.conf" <<CONF
hostname mx.peer.test
state_dir $dir/state
runtime_dir $dir/run
tls file $dir/cert.pem $dir/key.pem
log off
auth.pass_table local_authdb {
    table sql_table {
        driver sqlite3
        dsn credentials.db
        table_name passwords
    }
}
storage.imapsql local_mailboxes {
    driver sqlite3
    dsn imapsql.db
}
submission tcp://127.0.0.1:$port {
    auth &local_authdb
    source peer.test {
        destination peer.test {
            deliver_to &local_mailboxes
        }
        default_destination {
            reject 550 5.1.1 "no remote delivery in the benchmark"
        }
    }
    default_source {
        reject 501 5.1.8 "not ours"
    }
}
CONF
  "$STAMP_BENCH_PEER" -config "$dir/maddy.conf" creds create --password 'bench password' bench@peer.test >/dev/null
  "$STAMP_BENCH_PEER" -config "$dir/maddy.conf" imap-acct create bench@peer.test >/dev/null
  "$STAMP_BENCH_PEER" -config "$dir/maddy.conf" run >"$dir/out" 2>&1 &
  peer_pid=$! srv_pid=$!
  for _ in $(seq 1 100); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
  printf '%-15s submission 10 KB x %5d, %d connections: ' "peer (maddy)" "$nsub" "$conns"
  who=maddy load "peer (maddy)" "$nsub" --addr "127.0.0.1:$port" --starttls --username bench@peer.test --password 'bench password' \
    --from bench@peer.test --to bench@peer.test --connections "$conns" --size 10240
  kill "$peer_pid"; wait "$peer_pid" 2>/dev/null || true; peer_pid="" srv_pid=""
}

case $only in *" sqlite "*) run_one sqlite "{database: sqlite}" ;; esac
case $only in *" sqlite-nobayes "*) run_one sqlite-nobayes "{database: sqlite}" "filters: {bayes: false}" ;; esac
case $only in *" peer "*)
  if [ -n "${STAMP_BENCH_PEER:-}" ]; then run_peer; else echo "peer: SKIPPED (set STAMP_BENCH_PEER to a maddy binary)"; fi ;;
esac
case $only in *" postgres "*) ;; *) exit 0 ;; esac
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
