#!/usr/bin/env bash
# Build Jaeger (the v2 binary, cmd/jaeger) from the Go module proxy into the floe cache.
#
# `go install github.com/jaegertracing/jaeger/cmd/jaeger@VERSION` is refused because Jaeger's
# go.mod has a `replace` directive, so we build through a tiny wrapper module that requires
# Jaeger at VERSION and repeats Jaeger's own replace lines (read from its go.mod in the module
# cache, not hard-coded).
#
# Idempotent: skips everything when the binary for this version + build recipe already exists.
# Prints the absolute path of the runnable binary as the last line on stdout (logs go to stderr).
set -euo pipefail

JAEGER_VERSION="${JAEGER_VERSION:-v1.76.0}"
FLOE_CACHE="${FLOE_CACHE:-$HOME/.cache/floe}"
GO="${GO:-$(command -v go || echo /usr/local/go/bin/go)}"
MODULE=github.com/jaegertracing/jaeger

dest_dir="$FLOE_CACHE/bin/jaeger-$JAEGER_VERSION"
bin="$dest_dir/jaeger"
stamp="$dest_dir/.floe-stamp"
recipe_rev=1   # bump when this script's build recipe changes
want_stamp="jaeger $JAEGER_VERSION recipe=$recipe_rev"

if [[ -x "$bin" && -f "$stamp" && "$(cat "$stamp")" == "$want_stamp" ]]; then
  echo "jaeger $JAEGER_VERSION already built: $bin" >&2
  echo "$bin"
  exit 0
fi

export GOMODCACHE="$FLOE_CACHE/go/mod"
export GOCACHE="$FLOE_CACHE/go/build"
export GOFLAGS="-modcacherw -buildvcs=false"   # -modcacherw: the cache can be removed with plain rm -rf
export GOTOOLCHAIN=local
export CGO_ENABLED=0
mkdir -p "$dest_dir" "$GOMODCACHE" "$GOCACHE"

echo "building jaeger $JAEGER_VERSION with $("$GO" version) ..." >&2
start=$(date +%s)

work="$FLOE_CACHE/src/jaeger-build-$JAEGER_VERSION"
rm -rf "$work"; mkdir -p "$work"
cd "$work"

# Jaeger's own go.mod (downloaded into the module cache) -> go directive + replace lines.
upstream_gomod="$("$GO" mod download -json "$MODULE@$JAEGER_VERSION" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p')"
[[ -f "$upstream_gomod" ]] || { echo "could not locate go.mod of $MODULE@$JAEGER_VERSION" >&2; exit 1; }
go_line="$(grep -m1 '^go ' "$upstream_gomod")"

{
  echo "module floe.local/jaeger-build"
  echo
  echo "$go_line"
  echo
  echo "require $MODULE $JAEGER_VERSION"
  echo
  grep '^replace ' "$upstream_gomod" || true
} > go.mod

"$GO" get "$MODULE/cmd/jaeger@$JAEGER_VERSION" >&2
"$GO" build -trimpath \
  -ldflags "-s -w -X $MODULE/internal/version.latestVersion=$JAEGER_VERSION" \
  -o "$bin.tmp" "$MODULE/cmd/jaeger" >&2
mv -f "$bin.tmp" "$bin"
echo "$want_stamp" > "$stamp"
echo "built jaeger $JAEGER_VERSION in $(( $(date +%s) - start ))s" >&2
echo "$bin"
