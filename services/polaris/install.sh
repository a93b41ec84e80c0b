#!/usr/bin/env bash
# Build a runnable Apache Polaris server (Quarkus fast-jar) from Maven Central.
#
#   services/polaris/install.sh          # build (or reuse) and print where the runnable is
#
# Output:  $FLOE_POLARIS_HOME/current/quarkus-run.jar   (default ~/.cache/floe/polaris/current)
# Idempotent: the build is keyed by a hash of pom.xml; a second run with the same pom
# only re-points the `current` link and exits (well under a second).
#
# Environment (all optional):
#   FLOE_CACHE_DIR          default ~/.cache/floe
#   FLOE_POLARIS_HOME       default $FLOE_CACHE_DIR/polaris        (build output)
#   FLOE_M2_REPO            default $FLOE_CACHE_DIR/m2             (Maven local repo)
#   FLOE_POLARIS_JAVA_HOME  default /usr/lib/jvm/temurin-25-jdk-amd64 (needs Java 21+)
#   FLOE_MVN                default mvn
#   FLOE_POLARIS_FORCE=1    rebuild even if a build for this pom exists
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache="${FLOE_CACHE_DIR:-$HOME/.cache/floe}"
out_root="${FLOE_POLARIS_HOME:-$cache/polaris}"
m2="${FLOE_M2_REPO:-$cache/m2}"
java_home="${FLOE_POLARIS_JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"
mvn_cmd="${FLOE_MVN:-mvn}"

log() { printf 'polaris-install: %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

[ -x "$java_home/bin/java" ] || die "no JDK at $java_home (set FLOE_POLARIS_JAVA_HOME to a Java 21+ JDK)"
java_major="$("$java_home/bin/java" -XshowSettings:properties -version 2>&1 \
  | sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p')"
[ "${java_major:-0}" -ge 21 ] || die "Polaris needs Java 21+, $java_home is Java ${java_major:-?}"
command -v "$mvn_cmd" >/dev/null || die "maven ('$mvn_cmd') not found"

pom_hash="$(sha256sum "$here/pom.xml" | cut -c1-16)"
build_dir="$out_root/build-$pom_hash"
app_dir="$build_dir/target/quarkus-app"
mkdir -p "$out_root" "$m2"

# One build at a time (a supervisor and a developer may race).
exec 9>"$out_root/.install.lock"
flock 9

if [ -f "$build_dir/.complete" ] && [ -f "$app_dir/quarkus-run.jar" ] && [ -z "${FLOE_POLARIS_FORCE:-}" ]; then
  log "up to date (pom $pom_hash)"
else
  log "building Polaris server (pom $pom_hash) with $java_home (Java $java_major), maven repo $m2"
  rm -rf "$build_dir"
  mkdir -p "$build_dir"
  cp "$here/pom.xml" "$build_dir/pom.xml"
  start=$(date +%s)
  # -U: re-ask the registry for artifacts an earlier run found missing (Maven caches "not found"
  # for a day otherwise). Only consulted on a real (re)build, never on the fast path.
  if ! JAVA_HOME="$java_home" PATH="$java_home/bin:$PATH" \
      "$mvn_cmd" -B -ntp -U -f "$build_dir/pom.xml" -Dmaven.repo.local="$m2" \
      -DskipTests package >"$build_dir/build.log" 2>&1; then
    log "maven build failed; full log: $build_dir/build.log"
    grep -E '^\[ERROR\]' "$build_dir/build.log" | head -n 15 >&2 || true
    if grep -qE "Could not (find|resolve|transfer) artifact|Failed to read artifact descriptor" "$build_dir/build.log"; then
      log "an artifact is not served by the Maven registry this machine reaches;"
      log "see services/polaris/README.md ('Why the build can fail here')"
    fi
    exit 1
  fi
  [ -f "$app_dir/quarkus-run.jar" ] || die "build finished but $app_dir/quarkus-run.jar is missing"
  touch "$build_dir/.complete"
  log "built in $(( $(date +%s) - start ))s"
fi

ln -sfn "build-$pom_hash/target/quarkus-app" "$out_root/current"
# Drop builds of older poms (keep the current one only).
for d in "$out_root"/build-*; do
  [ "$d" = "$build_dir" ] || rm -rf "$d"
done

log "runnable: $out_root/current/quarkus-run.jar"
log "start it with: services/polaris/run.sh   (see README.md for the required environment)"
echo "$out_root/current/quarkus-run.jar"
