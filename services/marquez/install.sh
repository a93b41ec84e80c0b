#!/usr/bin/env bash
# Resolve the Marquez API server (io.github.marquezproject:marquez-api) and all its runtime
# dependencies from Maven Central into the floe cache:
#   jars  -> ~/.cache/floe/marquez/<version>/lib/*.jar
#   Maven local repository -> ~/.cache/floe/m2
# Idempotent: skipped when lib/ was already resolved from the same pom.xml + version.
# Prints the lib directory (the java classpath is "<that dir>/*") as the last line on stdout.
#
# STATUS (measured 2026-11-26): the Maven Central that this workplace reaches does NOT serve
# the io.github.marquezproject group at all (404 for marquez-api 0.49.0/0.50.0/0.51.1 and for
# maven-metadata.xml), so this script fails here with exit code 3. See README.md.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

MARQUEZ_VERSION="${MARQUEZ_VERSION:-0.50.0}"
FLOE_CACHE="${FLOE_CACHE:-$HOME/.cache/floe}"
MVN="${MVN:-mvn}"

dest="$FLOE_CACHE/marquez/$MARQUEZ_VERSION"
lib="$dest/lib"
stamp="$dest/.floe-stamp"
want_stamp="marquez $MARQUEZ_VERSION pom=$(sha256sum "$here/pom.xml" | cut -d' ' -f1)"

if [[ -d "$lib" && -f "$stamp" && "$(cat "$stamp")" == "$want_stamp" ]]; then
  echo "marquez $MARQUEZ_VERSION already resolved: $lib" >&2
  echo "$lib"
  exit 0
fi

mkdir -p "$FLOE_CACHE/m2" "$dest"
rm -rf "$lib.tmp"
log="$dest/mvn.log"
echo "resolving io.github.marquezproject:marquez-api:$MARQUEZ_VERSION from Maven Central ..." >&2
start=$(date +%s)
if ! "$MVN" -B -ntp -U -f "$here/pom.xml" \
      -Dmaven.repo.local="$FLOE_CACHE/m2" \
      -Dmarquez.version="$MARQUEZ_VERSION" \
      dependency:copy-dependencies \
      -DincludeScope=runtime -DoutputDirectory="$lib.tmp" >"$log" 2>&1; then
  if grep -q "Could not find artifact io.github.marquezproject" "$log"; then
    echo "ERROR: Maven Central (as reached from this machine) does not serve" \
         "io.github.marquezproject:marquez-api:$MARQUEZ_VERSION. Marquez cannot be installed" \
         "here; see $here/README.md. Maven log: $log" >&2
    exit 3
  fi
  echo "ERROR: dependency resolution failed; see $log" >&2
  tail -n 20 "$log" >&2
  exit 1
fi
rm -rf "$lib"; mv "$lib.tmp" "$lib"
echo "$want_stamp" > "$stamp"
echo "resolved $(ls "$lib" | wc -l) jars in $(( $(date +%s) - start ))s" >&2
echo "$lib"
