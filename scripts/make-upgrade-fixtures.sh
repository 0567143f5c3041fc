#!/usr/bin/env bash
# Makes the upgrade fixtures in storage/upgradetest/testdata from this
# repository's own older code: for each earlier schema version, a git
# worktree of the last commit with that schema is added under /tmp, a small
# program (storage/upgradetest/fixturegen.go.txt, copied into it) fills a
# SQLite database and, with STAMP_TEST_POSTGRES_DSN set, a PostgreSQL one
# dumped as plain SQL (pg_dump --no-owner). Run from the repository root:
#   eval "$(scripts/pg-throwaway.sh)"; scripts/make-upgrade-fixtures.sh
set -euo pipefail
root=$(pwd)
out="$root/storage/upgradetest/testdata"
mkdir -p "$out"
# version:commit -- the last commit whose schema stopped at that version.
for spec in v1:139c964^ v2:f50070d; do
  v=${spec%%:*}; commit=${spec#*:}
  wt=$(mktemp -d /tmp/stamp-old-$v.XXXXXX)
  git worktree add --detach "$wt" "$commit" >/dev/null
  mkdir -p "$wt/cmd/fixturegen"
  cp "$root/storage/upgradetest/fixturegen.go.txt" "$wt/cmd/fixturegen/main.go"
  rm -f "$out/$v.db"
  (cd "$wt" && go run ./cmd/fixturegen -sqlite "$out/$v.db")
  if [ -n "${STAMP_TEST_POSTGRES_DSN:-}" ]; then
    db="stamp_fixture_$v"
    psql "$STAMP_TEST_POSTGRES_DSN" -qc "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
    dsn=$(python3 -c 'import sys,urllib.parse as u; p=u.urlparse(sys.argv[1]); print(p._replace(path="/"+sys.argv[2]).geturl())' "$STAMP_TEST_POSTGRES_DSN" "$db")
    (cd "$wt" && go run ./cmd/fixturegen -postgres "$dsn")
    pg_dump --no-owner --no-privileges --format=plain "$dsn" > "$out/$v.pg.sql"
    psql "$STAMP_TEST_POSTGRES_DSN" -qc "DROP DATABASE $db"
  fi
  git worktree remove --force "$wt"
done
ls -la "$out"
