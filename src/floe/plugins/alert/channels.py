from __future__ import annotations

import json
import sys
from dataclasses import asdict
from typing import ClassVar

from floe.config.plugins import ConsoleAlertConfig, WebhookAlertConfig
from floe.plugins.base import HealthState, HealthStatus
from floe.plugins.interfaces import AlertChannelPlugin, AlertEvent


class WebhookAlertPlugin(AlertChannelPlugin):
    """POST the alert as JSON to a URL (Slack-compatible payload carries ``text``)."""

    name: ClassVar[str] = "webhook"
    description: ClassVar[str] = "JSON webhook"
    config_model = WebhookAlertConfig
    config: WebhookAlertConfig | None

    def validate_config(self) -> list[str]:
        if self.config is None:
            return ["webhook channel has no configuration (url is required)"]
        return []

    def send_alert(self, event: AlertEvent) -> bool:
        import httpx

        cfg = self.config
        if cfg is None:
            return False
        headers = {}
        if cfg.token is not None:
            from floe.plugins.secrets.env import EnvSecretsPlugin

            token = EnvSecretsPlugin().get_secret(cfg.token).get_secret_value()
            headers["Authorization"] = f"Bearer {token}"
        payload = {"text": f"[{event.severity}] {event.product}: {event.title}", **asdict(event)}
        try:
            resp = httpx.post(cfg.url, json=payload, headers=headers, timeout=cfg.timeout_seconds)
        except httpx.HTTPError:
            return False
        return resp.status_code < 300

    def health_check(self, timeout: float = 5.0) -> HealthStatus:
        problems = self.validate_config()
        if self.config is None:
            return self.not_configured()
        if problems:
            return HealthStatus(HealthState.UNHEALTHY, "; ".join(problems))
        return HealthStatus(HealthState.HEALTHY, f"posts to {self.config.url}")


class ConsoleAlertPlugin(AlertChannelPlugin):
    name: ClassVar[str] = "console"
    description: ClassVar[str] = "alerts printed to stderr"
    config_model = ConsoleAlertConfig

    def validate_config(self) -> list[str]:
        return []

    def send_alert(self, event: AlertEvent) -> bool:
        print(json.dumps({"alert": asdict(event)}), file=sys.stderr)
        return True
