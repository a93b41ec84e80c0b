#!/usr/bin/env bash
# Start the Marquez API server in the foreground (exec, so the PID is the JVM's own).
# Usage: run.sh [LIB_DIR]   (default: whatever install.sh prints)
# Requires FLOE_MARQUEZ_DB_PASSWORD in the environment; every FLOE_MARQUEZ_* variable documented
# in marquez.yml may be overridden. FLOE_MARQUEZ_JAVA_OPTS overrides the JVM options.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
: "${FLOE_MARQUEZ_DB_PASSWORD:?set FLOE_MARQUEZ_DB_PASSWORD (the marquez DB role password)}"
export FLOE_MARQUEZ_DB_PASSWORD

lib="${1:-$("$here/install.sh" | tail -n1)}"
JAVA="${JAVA:-${JAVA_HOME:+$JAVA_HOME/bin/}java}"
# shellcheck disable=SC2086  # word splitting of the options is intended
exec "$JAVA" ${FLOE_MARQUEZ_JAVA_OPTS:--Xms64m -Xmx512m -XX:+UseSerialGC} \
  -cp "$lib/*" marquez.MarquezApp server "$here/marquez.yml"
