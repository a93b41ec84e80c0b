"""Lineage is best effort: an unreachable backend is said once per process, then skipped."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from floe.lineage import emitter
from floe.lineage.emitter import LineageEmitter, available


def test_unreachable_http_backend_is_said_once(monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(emitter, "_warned", set())
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{s.getsockname()[1]}"
    transport = {"type": "http", "url": url, "endpoint": "api/v1/lineage"}
    assert not available(transport)
    for _ in range(3):  # e.g. one emitter per product or per model
        assert not LineageEmitter(transport, "ns").enabled
    err = capsys.readouterr().err
    assert err.count(f"lineage unavailable ({url} unreachable)") == 1, err
    assert available(None) and available({"type": "file", "log_file_path": "x.jsonl"})


def test_trace_facet_only_when_a_trace_is_recording(tmp_path: Path) -> None:
    """With no recording span (telemetry off or down) the run carries no floe_trace facet, rather than
    one with empty ids that would lead nowhere; inside a span it carries the span's ids."""
    import json

    from opentelemetry.sdk.trace import TracerProvider

    log = tmp_path / "lineage.jsonl"
    lineage = LineageEmitter({"type": "file", "log_file_path": str(log), "append": True}, "ns")
    lineage.emit("START", "job", "00000000-0000-4000-8000-000000000001")
    with TracerProvider().get_tracer("t").start_as_current_span("s") as span:
        lineage.emit("COMPLETE", "job", "00000000-0000-4000-8000-000000000001")
    first, second = (json.loads(line) for line in log.read_text().splitlines())
    assert "floe_trace" not in first["run"]["facets"]
    assert second["run"]["facets"]["floe_trace"]["trace_id"] == f"{span.get_span_context().trace_id:032x}"
