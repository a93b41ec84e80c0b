"""Builtin alert plugins.

Both take two things from the run that sends the alert (:meth:`bind_run`): the secrets plugin's
resolver, so a webhook token is resolved only at send time, and the run's log, so a console alert
lands in Dagster's event log for the run rather than in a stderr nobody reads.
"""
from __future__ import annotations

import json
import sys
import threading
from collections.abc import Callable
from dataclasses import asdict
from typing import Annotated, Any, ClassVar, Literal
from urllib.parse import urlsplit

from pydantic import Field

from floe.config._base import SecretRef, Url
from floe.config.plugins import PluginConfig
from floe.errors import FloeError
from floe.plugins.base import HealthState, HealthStatus
from floe.plugins.interfaces import AlertChannelPlugin, AlertEvent


class ConsoleAlertConfig(PluginConfig):
    type: Literal["console"]


class WebhookAlertConfig(PluginConfig):
    type: Literal["webhook"]
    url: Url
    token: SecretRef | None = None
    timeout_seconds: Annotated[float, Field(gt=0, le=60)] = 5.0


def redacted(url: str) -> str:
    """``scheme://host[:port]`` of ``url``: webhook paths often are the secret (Slack's are)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"


class WebhookAlertPlugin(AlertChannelPlugin):
    """POST the alert as JSON to a URL (Slack-compatible payload carries ``text``).

    ``send_alert`` returns within ``timeout_seconds`` whatever the receiver does; when it returns
    False, ``last_error`` says why (never with the token, nor the URL's path).
    """

    name: ClassVar[str] = "webhook"
    description: ClassVar[str] = "JSON webhook"
    config_model = WebhookAlertConfig
    config: WebhookAlertConfig | None
    last_error: str | None = None
    _resolve: Callable[[SecretRef], str] | None = None

    def bind_run(self, *, resolve: Callable[[SecretRef], str], log: Callable[[str], None] | None) -> None:
        self._resolve = resolve

    def describe(self) -> str:
        return f"{self.name} ({redacted(self.config.url)})" if self.config is not None else self.name

    def validate_config(self) -> list[str]:
        if self.config is None:
            return ["webhook channel has no configuration (url is required)"]
        return []

    def _headers(self, cfg: WebhookAlertConfig) -> dict[str, str]:
        if cfg.token is None:
            return {}
        resolve = self._resolve
        if resolve is None:  # not sent from a run: the default secrets plugin
            from floe.plugins.secrets.env import EnvSecretsPlugin

            def resolve(ref: SecretRef) -> str:
                return EnvSecretsPlugin().get_secret(ref).get_secret_value()

        return {"Authorization": f"Bearer {resolve(cfg.token)}"}

    def send_alert(self, event: AlertEvent) -> bool:
        cfg = self.config
        self.last_error = None
        if cfg is None:
            self.last_error = "no configuration (url is required)"
            return False
        try:
            headers = self._headers(cfg)
        except FloeError as exc:
            self.last_error = f"token {cfg.token}: {exc.message}"
            return False
        text = f"[{event.severity}] {event.product}: {event.title}"
        # what failed and where to look, when the event says
        text += "".join(f"\n{event.details[k]}" for k in ("summary", "url", "logs")
                        if isinstance(event.details.get(k), str))
        outcome: list[str | None] = []
        # httpx's timeout bounds each phase (connect, write, read); the thread bounds the whole POST
        worker = threading.Thread(target=self._post, args=(cfg, {"text": text, **asdict(event)}, headers, outcome),
                                  name="floe-alert-webhook", daemon=True)
        worker.start()
        worker.join(cfg.timeout_seconds)
        if not outcome:
            self.last_error = f"no answer within {cfg.timeout_seconds:g}s"
            return False
        self.last_error = outcome[0]
        return outcome[0] is None

    @staticmethod
    def _post(cfg: WebhookAlertConfig, payload: dict[str, Any], headers: dict[str, str],
              outcome: list[str | None]) -> None:
        import httpx

        try:
            resp = httpx.post(cfg.url, json=payload, headers=headers, timeout=cfg.timeout_seconds)
        except Exception as exc:  # httpx.HTTPError, or a bad header value: said, not lost in the thread
            outcome.append(f"{type(exc).__name__}: {str(exc).replace(cfg.url, redacted(cfg.url))}")
            return
        outcome.append(None if resp.status_code < 300 else f"HTTP {resp.status_code}")

    def health_check(self, timeout: float = 5.0) -> HealthStatus:
        problems = self.validate_config()
        if self.config is None:
            return self.not_configured()
        if problems:
            return HealthStatus(HealthState.UNHEALTHY, "; ".join(problems))
        return HealthStatus(HealthState.HEALTHY, f"posts to {redacted(self.config.url)}")


class ConsoleAlertPlugin(AlertChannelPlugin):
    """One JSON line per alert (``{"alert": {...}}``) in the run's log, else on stderr."""

    name: ClassVar[str] = "console"
    description: ClassVar[str] = "alerts written to the run's log (stderr outside a run)"
    config_model = ConsoleAlertConfig
    _log: Callable[[str], None] | None = None

    def bind_run(self, *, resolve: Callable[[SecretRef], str], log: Callable[[str], None] | None) -> None:
        self._log = log

    def validate_config(self) -> list[str]:
        return []

    def send_alert(self, event: AlertEvent) -> bool:
        line = json.dumps({"alert": asdict(event)})
        if self._log is not None:
            self._log(line)
        else:
            print(line, file=sys.stderr)
        return True
