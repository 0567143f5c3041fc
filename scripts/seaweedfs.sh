#!/usr/bin/env bash
# Build SeaweedFS's `weed` (Apache-2.0), the real S3 server the blob, storage
# and cluster tests run against, once, into a cache directory outside the
# clone. `go install` refuses the module (it has replace directives), so the
# module is downloaded through the Go module proxy, copied somewhere writable
# and built there. About 10 minutes on 2 cores; 230 MB.
#
#   scripts/seaweedfs.sh            build if missing; print the binary's path
#   STAMP_TEST_WEED=/path/weed ...  use that binary instead (nothing is built)
set -euo pipefail

version=v0.0.0-20261109003541-7506e5f91cd6
cache="${STAMP_TEST_CACHE:-$HOME/.cache/stamp-test}"
bin="${STAMP_TEST_WEED:-$cache/weed}"

if [ -x "$bin" ]; then
  echo "$bin"
  exit 0
fi
if [ -n "${STAMP_TEST_WEED:-}" ]; then
  echo "seaweedfs.sh: STAMP_TEST_WEED=$STAMP_TEST_WEED is not an executable" >&2
  exit 1
fi

mkdir -p "$cache"
# One build at a time, even when two runs start together.
exec 9>"$cache/weed.lock"
flock 9
if [ -x "$bin" ]; then
  echo "$bin"
  exit 0
fi

src="$cache/seaweedfs-src"
if [ ! -f "$src/weed/weed.go" ]; then
  tmpmod=$(mktemp -d)
  trap 'rm -rf "$tmpmod"' EXIT
  (cd "$tmpmod" && go mod init stamp-weed-fetch >/dev/null 2>&1 &&
    GOFLAGS=-mod=mod go mod download -json "github.com/seaweedfs/seaweedfs@$version" >"$tmpmod/dl.json")
  dir=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["Dir"])' "$tmpmod/dl.json")
  rm -rf "$src.tmp"
  cp -r "$dir" "$src.tmp"
  chmod -R u+w "$src.tmp"
  mv "$src.tmp" "$src"
fi
echo "seaweedfs.sh: building weed $version into $bin (about 10 minutes)" >&2
(cd "$src" && go build -o "$bin.tmp" ./weed)
mv "$bin.tmp" "$bin"
echo "$bin"
