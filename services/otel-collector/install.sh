#!/usr/bin/env bash
# Build floe's OpenTelemetry Collector ("otelcol-floe") with the OpenTelemetry Collector Builder
# (ocb), both from the Go module proxy, into the floe cache.
#
# Idempotent: the build is skipped when ~/.cache/floe/bin/otelcol-floe exists and was built from
# the same manifest.yaml with the same builder version (sha256 stamp next to the binary).
# Prints the absolute path of the runnable binary as the last line on stdout (logs go to stderr).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

OCB_VERSION="${OCB_VERSION:-v0.165.0}"   # must match the core module release in manifest.yaml
FLOE_CACHE="${FLOE_CACHE:-$HOME/.cache/floe}"
GO="${GO:-$(command -v go || echo /usr/local/go/bin/go)}"
manifest="$here/manifest.yaml"

bin="$FLOE_CACHE/bin/otelcol-floe"
stamp="$bin.floe-stamp"
want_stamp="ocb=$OCB_VERSION manifest=$(sha256sum "$manifest" | cut -d' ' -f1)"

if [[ -x "$bin" && -f "$stamp" && "$(cat "$stamp")" == "$want_stamp" ]]; then
  echo "otelcol-floe already built ($want_stamp)" >&2
  echo "$bin"
  exit 0
fi

export GOMODCACHE="$FLOE_CACHE/go/mod"
export GOCACHE="$FLOE_CACHE/go/build"
export GOFLAGS="-modcacherw -buildvcs=false"
export GOTOOLCHAIN=local
export CGO_ENABLED=0
export PATH="$(dirname "$GO"):$PATH"     # ocb looks up `go` on PATH
mkdir -p "$FLOE_CACHE/bin" "$GOMODCACHE" "$GOCACHE"
start=$(date +%s)

# 1. the builder itself
ocb_dir="$FLOE_CACHE/bin/ocb-$OCB_VERSION"
if [[ ! -x "$ocb_dir/builder" ]]; then
  echo "installing ocb $OCB_VERSION with $("$GO" version) ..." >&2
  GOBIN="$ocb_dir" "$GO" install "go.opentelemetry.io/collector/cmd/builder@$OCB_VERSION" >&2
fi

# 2. the collector
work="$FLOE_CACHE/src/otelcol-floe"
rm -rf "$work"; mkdir -p "$work"
echo "building otelcol-floe from $manifest ..." >&2
# ocb takes the output directory from the manifest (dist.output_path; the --output-path flag is
# deprecated), so build from a copy of manifest.yaml with that one line added under `dist:`.
sed "s|^dist:[[:space:]]*\$|dist:\n  output_path: $work|" "$manifest" > "$work.manifest.yaml"
grep -q "^  output_path: $work\$" "$work.manifest.yaml" || { echo "could not set dist.output_path" >&2; exit 1; }
"$ocb_dir/builder" --config "$work.manifest.yaml" >&2
install -m 0755 "$work/otelcol-floe" "$bin.tmp"
mv -f "$bin.tmp" "$bin"
echo "$want_stamp" > "$stamp"
echo "built otelcol-floe in $(( $(date +%s) - start ))s" >&2
echo "$bin"
