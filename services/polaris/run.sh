#!/usr/bin/env bash
# Start the Polaris server built by install.sh in the foreground. `exec`s java, so the PID a
# supervisor gets is the JVM's PID (stop it with SIGTERM; Quarkus shuts down cleanly).
#
# Required environment:
#   QUARKUS_DATASOURCE_JDBC_URL, QUARKUS_DATASOURCE_USERNAME, QUARKUS_DATASOURCE_PASSWORD
#   POLARIS_BOOTSTRAP_CREDENTIALS   POLARIS,clientId,clientSecret  root principal of the realm.
#       Used only on the first start against an empty database: run.sh asks PostgreSQL (psql)
#       whether the realm is bootstrapped already. If not, it turns on Polaris' auto-bootstrap
#       (creates schema polaris_schema + root principal with exactly these credentials); if it is,
#       it unsets the variable (Polaris 1.4.1's JDBC bootstrap is NOT idempotent: a second
#       bootstrap aborts startup) and starts normally. Safe to always set it.
# Optional:
#   FLOE_POLARIS_STATE_DIR   default ~/.cache/floe/polaris/state  (config copy, RSA token keys)
#   FLOE_POLARIS_APP         default ~/.cache/floe/polaris/current (from install.sh)
#   FLOE_POLARIS_JAVA_HOME   default /usr/lib/jvm/temurin-25-jdk-amd64
#   FLOE_POLARIS_REALM       default POLARIS (must match polaris.realm-context.realms)
#   FLOE_POLARIS_BOOTSTRAP   auto (default: decide with psql) | 1 (force) | 0 (never)
#   POLARIS_JAVA_OPTS        default: see java_opts below (C1-only JIT + auto AppCDS archive in the
#                            state dir: ~3x faster start on 2 cores; drop TieredStopAtLevel=1 for
#                            peak throughput)
#   AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_REGION  S3 credentials Polaris itself uses to
#                            read/write table metadata when the catalog sets stsUnavailable=true
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache="${FLOE_CACHE_DIR:-$HOME/.cache/floe}"
app="${FLOE_POLARIS_APP:-$cache/polaris/current}"
state="${FLOE_POLARIS_STATE_DIR:-$cache/polaris/state}"
java_home="${FLOE_POLARIS_JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"
java_opts="${POLARIS_JAVA_OPTS:--Xms64m -Xmx512m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -XX:+AutoCreateSharedArchive -XX:SharedArchiveFile=$state/polaris.jsa -XX:+ExitOnOutOfMemoryError}"

die() { printf 'polaris-run: ERROR: %s\n' "$*" >&2; exit 1; }

[ -f "$app/quarkus-run.jar" ] || die "no server at $app (run services/polaris/install.sh first)"
for v in QUARKUS_DATASOURCE_JDBC_URL QUARKUS_DATASOURCE_USERNAME QUARKUS_DATASOURCE_PASSWORD; do
  [ -n "${!v:-}" ] || die "$v is not set"
done

# --- first start? (see POLARIS_BOOTSTRAP_CREDENTIALS above) ---------------------------------
realm="${FLOE_POLARIS_REALM:-POLARIS}"
bootstrap="${FLOE_POLARIS_BOOTSTRAP:-auto}"
if [ "$bootstrap" = auto ]; then
  command -v psql >/dev/null || die "psql not found: set FLOE_POLARIS_BOOTSTRAP=1 (first start) or 0"
  # jdbc:postgresql://host[:port]/db[?params]
  url="${QUARKUS_DATASOURCE_JDBC_URL#jdbc:postgresql://}"
  hostport="${url%%/*}"; db="${url#*/}"; db="${db%%\?*}"
  pg_host="${hostport%%:*}"; pg_port=5432
  [ "$hostport" != "$pg_host" ] && pg_port="${hostport##*:}"
  psql_q() {
    PGPASSWORD="$QUARKUS_DATASOURCE_PASSWORD" PGCONNECT_TIMEOUT=10 psql -X -qAt -v ON_ERROR_STOP=1 \
      -h "$pg_host" -p "$pg_port" -U "$QUARKUS_DATASOURCE_USERNAME" -d "$db" -c "$1"
  }
  has_table="$(psql_q "SELECT to_regclass('polaris_schema.entities') IS NOT NULL")" \
    || die "cannot query PostgreSQL at $pg_host:$pg_port/$db"
  roots=0
  if [ "$has_table" = t ]; then
    # the realm's root container entity (type_code 1) exists once the realm is bootstrapped
    roots="$(psql_q "SELECT count(*) FROM polaris_schema.entities WHERE realm_id = '${realm//\'/}' AND type_code = 1")"
  fi
  if [ "$roots" = 0 ]; then bootstrap=1; else bootstrap=0; fi
fi
if [ "$bootstrap" = 1 ]; then
  [ -n "${POLARIS_BOOTSTRAP_CREDENTIALS:-}" ] \
    || die "realm $realm is not bootstrapped yet: set POLARIS_BOOTSTRAP_CREDENTIALS=$realm,<clientId>,<clientSecret>"
  echo "polaris-run: bootstrapping realm $realm (first start)" >&2
  export POLARIS_PERSISTENCE_AUTO_BOOTSTRAP_TYPES=relational-jdbc
else
  unset POLARIS_BOOTSTRAP_CREDENTIALS
  export POLARIS_PERSISTENCE_AUTO_BOOTSTRAP_TYPES=none
fi

mkdir -p "$state/config" "$state/keys"
chmod 700 "$state/keys"
install -m 0644 "$here/application.properties" "$state/config/application.properties"
if [ ! -s "$state/keys/private.key" ] || [ ! -s "$state/keys/public.key" ]; then
  (umask 077
   openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$state/keys/private.key" 2>/dev/null
   openssl pkey -in "$state/keys/private.key" -pubout -out "$state/keys/public.key" 2>/dev/null)
fi

cd "$state"
# shellcheck disable=SC2086  # java_opts is a list of flags
exec "$java_home/bin/java" $java_opts -jar "$app/quarkus-run.jar"
