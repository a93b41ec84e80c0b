"""Lineage is best effort: an unreachable backend is said once per process, then skipped."""

from __future__ import annotations

import socket

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
