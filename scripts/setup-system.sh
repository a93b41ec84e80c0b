#!/usr/bin/env bash
# System packages the local platform runs (Debian): PostgreSQL 15 and the OCI registry.
# Idempotent: installs only what is missing.
set -euo pipefail
need=()
[ -x /usr/lib/postgresql/15/bin/postgres ] || need+=(postgresql-15)
command -v docker-registry >/dev/null || need+=(docker-registry)
command -v setpriv >/dev/null || need+=(util-linux)
if [ ${#need[@]} -eq 0 ]; then
  echo "setup-system: PostgreSQL 15 and docker-registry present"
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "setup-system: need root (or sudo) to install: ${need[*]}" >&2; exit 1; }
  SUDO=sudo
fi
echo "setup-system: installing ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
# Debian starts nothing without systemd; floe's supervisor runs these itself.
