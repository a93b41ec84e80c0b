from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest

from floe.plugins.base import FloePlugin
from floe.plugins.interfaces import SecretResolver
from floe.plugins.registry import get_registry
from floe.plugins.secrets.env import EnvSecretsPlugin
from floe.plugins.types import PluginType

from .samples import sample, set_secrets


@dataclass
class Sandbox:
    """What a suite gives a plugin: a private folder, a local HTTP receiver, and secrets in the env."""

    tmp: Path
    sink: str
    received: list[dict[str, Any]]
    secrets: dict[str, str]
    resolved: list[str] = field(default_factory=list)

    def config(self, ptype: PluginType, name: str) -> dict[str, Any]:
        return sample(ptype, name, self.tmp, self.sink)

    def create(self, ptype: PluginType, name: str) -> Any:
        plugin: FloePlugin = get_registry().create(ptype, name, self.config(ptype, name))
        return plugin

    def resolver(self) -> SecretResolver:
        """The env secrets plugin's resolver, recording every reference it resolves."""
        sandbox = self

        class Recording(SecretResolver):
            def __call__(self, ref: Any) -> str:
                sandbox.resolved.append(str(ref))
                return super().__call__(ref)

        return Recording(EnvSecretsPlugin())


@pytest.fixture
def sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    received: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            received.append({"path": self.path, "headers": dict(self.headers), "body": body})
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield Sandbox(tmp_path, f"http://127.0.0.1:{server.server_port}", received, set_secrets(monkeypatch, tmp_path))
    finally:
        server.shutdown()
        server.server_close()
