#!/usr/bin/env bash
# Paired before/after comparison of two stamp binaries under the MX load of
# scripts/bench.sh (10 KB, every check on, SQLite): both servers run side by
# side, idle in turn, and `stamp load smtp` alternates between them in short
# rounds, so a drift of the machine's speed (this 2-core VM's varies by a
# quarter from minute to minute) falls on both alike. Prints each round and
# the medians of msgs/s and of the CPU per message of each server.
#
#   scripts/bench-ab.sh OLD-BINARY NEW-BINARY [rounds] [messages-per-round]
#   STAMP_BENCH_CONNECTIONS=8 (default)
#   STAMP_AB_STORE=postgres   both on PostgreSQL (a database each, on the
#                             cluster of STAMP_TEST_POSTGRES_DSN), CPU of
#                             stamp only
#   STAMP_AB_STORE_A / STAMP_AB_STORE_B   the store of one side (sqlite or
#                             postgres): one binary on both stores gives
#                             PostgreSQL's rate as a share of SQLite's
#   STAMP_AB_ENV_A="K=V ..." / STAMP_AB_ENV_B   environment of one server
#   STAMP_BENCH_TEXT=FILE     the messages' body text (load smtp --text;
#                             scripts/bench-text.py writes real mail's)
# For SQLite sides it also prints the bytes each server wrote to the disk
# per message and its database file's size per message; for PostgreSQL
# sides the database's size per message and that of its largest tables.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 2 ] || { sed -n 2,10p "$0"; exit 2; }
rounds=${3:-8}
text=()
[ -n "${STAMP_BENCH_TEXT:-}" ] && text=(--text "$STAMP_BENCH_TEXT")
n=${4:-1500}
conns=${STAMP_BENCH_CONNECTIONS:-8}
work=$(mktemp -d /tmp/stamp-ab.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# shellcheck source=scripts/bench-dns.sh
. scripts/bench-dns.sh
start_bench_dns "$work"
[ -n "$dns_pid" ] && pids+=("$dns_pid")

store=${STAMP_AB_STORE:-sqlite}
declare -A stores=([a]=${STAMP_AB_STORE_A:-$store} [b]=${STAMP_AB_STORE_B:-$store})
dbs=()
if [ "${stores[a]}" = postgres ] || [ "${stores[b]}" = postgres ]; then
  [ -n "${STAMP_TEST_POSTGRES_DSN:-}" ] || { echo "bench-ab: STAMP_AB_STORE=postgres needs STAMP_TEST_POSTGRES_DSN"; exit 2; }
fi
drop_dbs() {
  for d in "${dbs[@]}"; do psql -q "$STAMP_TEST_POSTGRES_DSN" -c "DROP DATABASE IF EXISTS $d WITH (FORCE)" >/dev/null 2>&1 || true; done
}
trap 'cleanup; drop_dbs' EXIT

declare -A addr spid
for side in a b; do
  dir=$work/$side
  mkdir -p "$dir"
  if [ $side = a ]; then cp "$1" "$dir/stamp"; else cp "$2" "$dir/stamp"; fi
  storage="{database: sqlite}"
  if [ "${stores[$side]}" = postgres ]; then
    db="stamp_ab_$$_$side"
    psql -q "$STAMP_TEST_POSTGRES_DSN" -c "CREATE DATABASE $db" >/dev/null
    dbs+=("$db")
    dsn=$(python3 -c "import sys,urllib.parse as u; p=u.urlparse(sys.argv[1]); print(p._replace(path='/$db').geturl())" "$STAMP_TEST_POSTGRES_DSN")
    storage="{database: postgres, dsn: \"$dsn\"}"
  fi
  if [ $side = a ]; then senv=${STAMP_AB_ENV_A:-}; else senv=${STAMP_AB_ENV_B:-}; fi
  cat >"$dir/stamp.yaml" <<YAML
hostname: bench.test
storage: $storage
listen: {smtp: "127.0.0.1:0", submission: "", submissions: "", imap: "", imaps: "", pop3: "", pop3s: "", http: "", managesieve: ""}
limits: {smtp_rate_per_minute: 10000000, max_connections: 10000, max_connections_per_ip: 10000, send_per_hour: 100000000, send_per_day: 100000000}
log: {level: warn}
$dns_yaml
YAML
  (cd "$dir" && echo 'bench password' | ./stamp user add bench@bench.test --password-stdin --config stamp.yaml >/dev/null)
  # shellcheck disable=SC2086
  (cd "$dir" && exec env $senv ./stamp serve --config stamp.yaml >"$dir/out" 2>"$dir/err") &
  spid[$side]=$!
  pids+=($!)
  for _ in $(seq 1 200); do grep -q '^ready' "$dir/out" 2>/dev/null && break; sleep 0.1; done
  addr[$side]=$(awk '$1=="smtp"{print $2}' "$dir/out")
done

ticks() { awk '{print $14+$15+$16+$17}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)
load=$work/a/stamp
# A warm-up round each, not counted.
for side in a b; do "$load" load smtp --messages 300 --addr "${addr[$side]}" --to bench@bench.test --connections "$conns" --size 10240 "${text[@]}" >/dev/null; done
: >"$work/results"
for r in $(seq 1 "$rounds"); do
  order="a b"
  [ $((r % 2)) -eq 0 ] && order="b a"
  for side in $order; do
    t0=$(ticks "${spid[$side]}")
    out=$("$load" load smtp --messages "$n" --addr "${addr[$side]}" --to bench@bench.test --connections "$conns" --size 10240 "${text[@]}")
    t1=$(ticks "${spid[$side]}")
    rate=$(sed -n 's/.*: \([0-9]*\) msgs\/s.*/\1/p' <<<"$out")
    cpu=$(awk -v t=$((t1 - t0)) -v n="$n" -v hz="$hz" 'BEGIN { printf "%.3f", t*1000/hz/n }')
    echo "$side $rate $cpu" >>"$work/results"
    printf 'round %d %s: %s msgs/s, %s ms CPU/msg\n' "$r" "$side" "$rate" "$cpu"
  done
done
awk -v old="$1 (${stores[a]})" -v new="$2 (${stores[b]})" '
  { rate[$1] = rate[$1] " " $2; cpu[$1] = cpu[$1] " " $3 }
  function median(s,   a, k, i, j, t) {
    k = split(s, a, " ")
    for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
    return k % 2 ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
  }
  END {
    ra = median(rate["a"]); rb = median(rate["b"]); ca = median(cpu["a"]); cb = median(cpu["b"])
    printf "a %s: median %.0f msgs/s, %.3f ms CPU/msg\n", old, ra, ca
    printf "b %s: median %.0f msgs/s, %.3f ms CPU/msg\n", new, rb, cb
    printf "b/a: rate %.3f, CPU per message %.3f\n", rb / ra, cb / ca
  }' "$work/results"
# What each SQLite side wrote: bytes sent to the disk by the server (its
# /proc io counter: WAL frames and checkpoints) per message, and the size
# of the database file (without its WAL), after the warm-up and all rounds.
total=$((300 + rounds * n))
for side in a b; do
  [ "${stores[$side]}" = sqlite ] || continue
  wb=$(awk '$1=="write_bytes:"{print $2}' "/proc/${spid[$side]}/io")
  db=$(find "$work/$side" -name stamp.db -printf "%s\n" | awk '{t += $1} END {print t + 0}')
  awk -v s="$side" -v w="$wb" -v d="$db" -v n="$total" 'BEGIN {
    printf "%s: %.1f KB written per message; database file %.1f KB per message (%d messages)\n", s, w/1024/n, d/1024/n, n }'
done
# For a PostgreSQL side, its database's size per message (heap, indexes and
# TOAST of every table, after autovacuum had its chance) and the largest
# tables'.
for i in "${!dbs[@]}"; do
  db=${dbs[$i]}
  side=${db##*_}
  dsn=$(python3 -c "import sys,urllib.parse as u; p=u.urlparse(sys.argv[1]); print(p._replace(path='/$db').geturl())" "$STAMP_TEST_POSTGRES_DSN")
  size=$(psql -Atq "$dsn" -c "SELECT pg_database_size(current_database())")
  tables=$(psql -Atq "$dsn" -c "SELECT string_agg(t || ' ' || round(s / 1024.0 / $total, 1), ', ' ORDER BY s DESC)
    FROM (SELECT coalesce(i.inhparent::regclass::text, c.relname) AS t, sum(pg_total_relation_size(c.oid)) AS s
      FROM pg_class c LEFT JOIN pg_inherits i ON i.inhrelid = c.oid
      WHERE c.relkind = 'r' AND c.relnamespace = 'public'::regnamespace GROUP BY 1 ORDER BY 2 DESC LIMIT 6) x")
  awk -v s="$side" -v d="$size" -v n="$total" -v t="$tables" 'BEGIN {
    printf "%s: database %.1f KB per message (%d messages; KB per message: %s)\n", s, d/1024/n, n, t }'
done
