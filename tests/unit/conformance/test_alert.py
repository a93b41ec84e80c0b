"""Alert channels: each delivers an alert to a real local sink (its log, a local HTTP receiver, a file)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from floe.plugins.interfaces import AlertEvent
from floe.plugins.types import PluginType

from .conftest import Sandbox
from .samples import params

EVENT = AlertEvent("customer-360", "error", "dbt test not_null_orders_id failed", {"model": "stg_orders"})


def _sinks(sandbox: Sandbox, log: list[str], stderr: str) -> list[str]:
    """Everything a channel could have delivered to here: log lines, stderr, HTTP bodies, files."""
    files = [p.read_text() for p in Path(sandbox.tmp).rglob("*") if p.is_file() and p.suffix != ".db"]
    return [*log, stderr, *(json.dumps(r["body"]) for r in sandbox.received), *files]


@pytest.mark.parametrize("name", params(PluginType.ALERT_CHANNEL))
def test_alert_is_delivered_to_a_local_sink(name: str, sandbox: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    plugin = sandbox.create(PluginType.ALERT_CHANNEL, name)
    assert plugin.validate_config() == []
    log: list[str] = []
    plugin.bind_run(resolve=sandbox.resolver(), log=log.append)
    assert plugin.send_alert(EVENT) is True
    delivered = _sinks(sandbox, log, capsys.readouterr().err)
    hits = [s for s in delivered if EVENT.title in s]
    assert len(hits) == 1, f"{name}: the alert should arrive once, found {len(hits)} in {delivered}"
    assert EVENT.product in hits[0]
    # a secret the channel uses (a webhook token) reaches no payload, log or file
    assert all(v not in s for s in delivered for v in sandbox.secrets.values())


def test_webhook_sends_its_token_as_bearer_header_only(sandbox: Sandbox) -> None:
    plugin = sandbox.create(PluginType.ALERT_CHANNEL, "webhook")
    plugin.bind_run(resolve=sandbox.resolver(), log=None)
    assert plugin.send_alert(EVENT)
    (request,) = sandbox.received
    assert request["path"] == "/hook"
    assert request["headers"]["Authorization"] == f"Bearer {sandbox.secrets['CONF_TOKEN']}"
    assert request["body"]["product"] == "customer-360" and EVENT.title in request["body"]["text"]
    assert sandbox.resolved == ["env:CONF_TOKEN"]


def test_webhook_nobody_listening_is_false_with_the_reason() -> None:
    from floe.plugins.registry import get_registry

    plugin = get_registry().create(PluginType.ALERT_CHANNEL, "webhook",
                                   {"type": "webhook", "url": "http://127.0.0.1:9/secret-path", "timeout_seconds": 2})
    assert plugin.send_alert(EVENT) is False
    assert plugin.last_error and "secret-path" not in plugin.last_error
