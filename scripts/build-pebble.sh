#!/usr/bin/env bash
# Builds Pebble, Let's Encrypt's ACME test server, into $HOME/.cache/stamp-test
# (outside the clone) from the Go module proxy, in a throwaway module so the
# project's go.mod is untouched. The ACME test (acme_test.go) finds it there
# or through $STAMP_TEST_PEBBLE, and skips loudly without it.
set -euo pipefail
version=v2.10.3
dest="${STAMP_TEST_PEBBLE:-$HOME/.cache/stamp-test/pebble}"
if [ -x "$dest" ] && [ -d "$dest-certs" ] && [ "$(cat "$dest.version" 2>/dev/null)" = "$version" ]; then
  exit 0
fi
mkdir -p "$(dirname "$dest")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
printf 'module pebblebuild\n\ngo 1.24\n' > go.mod
GOFLAGS=-mod=mod go get "github.com/letsencrypt/pebble/v2/cmd/pebble@$version" >/dev/null
GOFLAGS=-mod=mod go build -o "$dest" github.com/letsencrypt/pebble/v2/cmd/pebble
# Its test certificates (the directory's HTTPS certificate and CA) too.
rm -rf "$dest-certs"
cp -r "$(go env GOMODCACHE)/github.com/letsencrypt/pebble/v2@$version/test/certs" "$dest-certs"
chmod -R u+w "$dest-certs"
echo "$version" > "$dest.version"
echo "pebble $version built into $dest"
