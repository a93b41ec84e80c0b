#!/usr/bin/env bash
# Start otelcol-floe in the foreground (exec, so the PID is the collector's own).
# Usage: run.sh [OTELCOL_BINARY]   (default: whatever install.sh prints; builds if needed)
# Every FLOE_OTELCOL_* variable documented in config.yaml may be overridden by the caller.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

export FLOE_OTELCOL_HOST="${FLOE_OTELCOL_HOST:-127.0.0.1}"
export FLOE_OTELCOL_GRPC_PORT="${FLOE_OTELCOL_GRPC_PORT:-4317}"
export FLOE_OTELCOL_HTTP_PORT="${FLOE_OTELCOL_HTTP_PORT:-4318}"
export FLOE_OTELCOL_HEALTH_PORT="${FLOE_OTELCOL_HEALTH_PORT:-13133}"
export FLOE_OTELCOL_JAEGER_OTLP="${FLOE_OTELCOL_JAEGER_OTLP:-127.0.0.1:14317}"
export FLOE_OTELCOL_MEMORY_MIB="${FLOE_OTELCOL_MEMORY_MIB:-512}"
export FLOE_OTELCOL_DEBUG_VERBOSITY="${FLOE_OTELCOL_DEBUG_VERBOSITY:-basic}"
export FLOE_OTELCOL_LOG_LEVEL="${FLOE_OTELCOL_LOG_LEVEL:-info}"

bin="${1:-$("$here/install.sh" | tail -n1)}"
exec "$bin" --config "file:$here/config.yaml"
