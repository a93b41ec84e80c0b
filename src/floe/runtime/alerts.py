"""Failure alerts: a product run that fails tells every alert channel the platform declared, once.

They are sent from where the run executes (the asset that runs dbt: Dagster's run worker on the
platform, in-process on the embedded runtime), so scheduled and sensor-triggered runs alert too, not
only a `floe run` somebody is watching. Best effort: a channel that fails is logged once, and the
run's own error is raised unchanged.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from floe.plugins.interfaces import AlertChannelPlugin, AlertEvent
    from floe.runtime.context import RunContext
    from floe.runtime.observe import ModelRunObserver

_logger = logging.getLogger("floe.alerts")


class RunLog(Protocol):
    """Where the run logs: Dagster's ``context.log`` (its event log), or a ``logging.Logger``."""

    def error(self, msg: str) -> Any: ...

    def warning(self, msg: str) -> Any: ...


def failure_event(ctx: RunContext, *, run_id: str, error: BaseException, since: float = 0.0,
                  observer: ModelRunObserver | None = None) -> AlertEvent:
    """The alert for a failed run: the failing dbt nodes with dbt's message (else the error), what
    dbt did not run downstream of them, and where to look.

    Args:
        ctx: the run's context (its compiled artifacts).
        run_id: the orchestrator's run id.
        error: what the run raised.
        since: when the run started (Unix time): older dbt results are not this run's.
        observer: the run's trace and lineage, when they had started.
    """
    from floe.plugins.interfaces import AlertEvent
    from floe.runtime.observe import failed_dbt_nodes

    a = ctx.artifacts
    found = failed_dbt_nodes(ctx, since=since)
    reason = f"{type(error).__name__}: {error}".strip()
    if found.failed:
        what = ", ".join(f"{f.name} ({f.kind} {f.status})" for f in found.failed)
    else:
        what = reason.splitlines()[0][:200]
    url = ctx.orchestrator_plugin().service_url()
    return AlertEvent(
        product=a.metadata.product_name,
        severity="error",
        title=f"run failed: {what}",
        details={
            "run_id": run_id,
            "product_version": a.metadata.product_version,
            "failed": [asdict(f) for f in found.failed],
            "not_run": found.not_run,
            "summary": "\n".join(found.lines()) or reason[:1500],
            "url": f"{str(url).rstrip('/')}/runs/{run_id}" if url else None,
            "logs": None if url else str(ctx.out_dir / "logs"),
            "trace_id": observer.trace_id if observer else None,
            "lineage_run_id": observer.run_id if observer else None,
        },
    )


class FailureAlert:
    """One run's alerting. ``observer`` is set once the run's trace and lineage exist, so the alert
    can name them."""

    def __init__(self, ctx: RunContext, run_id: str, log: RunLog | None = None) -> None:
        self.ctx = ctx
        self.run_id = run_id
        self.log: RunLog = log if log is not None else _logger
        self._run_log = log
        self.started = time.time()
        self.observer: ModelRunObserver | None = None

    def send(self, error: BaseException) -> int:
        """Send the alert for ``error`` to every channel; never raises. Returns how many accepted it."""
        try:
            event = failure_event(self.ctx, run_id=self.run_id, error=error, since=self.started,
                                  observer=self.observer)
        except Exception as exc:
            self.log.warning(f"floe: no failure alert for run {self.run_id}: {type(exc).__name__}: {exc}")
            return 0
        delivered = 0
        for label, channel in self._channels():
            try:
                if channel.send_alert(event):
                    delivered += 1
                    continue
                reason = getattr(channel, "last_error", None) or "the channel did not accept it"
            except Exception as exc:  # a broken channel must not hide the run's own error
                reason = f"{type(exc).__name__}: {exc}"
            self.log.warning(f"floe: alert channel {label} failed for run {self.run_id}: {reason}")
        return delivered

    def _channels(self) -> Iterator[tuple[str, AlertChannelPlugin]]:
        """Each configured channel, bound to this run's secrets plugin and log; one that cannot be
        created is logged and left out."""
        from floe.plugins.interfaces import AlertChannelPlugin, SecretResolver
        from floe.plugins.registry import get_registry
        from floe.plugins.types import PluginType

        resolver: SecretResolver | None = None
        for ref in self.ctx.artifacts.plugins.alert_channels:
            label = ref.type
            try:
                channel = get_registry().from_ref(PluginType.ALERT_CHANNEL, ref)
                assert isinstance(channel, AlertChannelPlugin)
                label = channel.describe()
                resolver = resolver or SecretResolver(self.ctx.secrets_plugin())
                channel.bind_run(resolve=resolver, log=self._run_log.error if self._run_log is not None else None)
            except Exception as exc:
                self.log.warning(f"floe: alert channel {label} failed for run {self.run_id}: "
                                 f"{type(exc).__name__}: {exc}")
                continue
            yield label, channel


@contextmanager
def alert_on_failure(ctx: RunContext, *, run_id: str, log: RunLog | None = None) -> Iterator[FailureAlert]:
    """Around a product run: when it raises, alert every configured channel, then re-raise.

    Args:
        ctx: the run's context.
        run_id: the orchestrator's run id (Dagster's ``context.run_id``).
        log: the run's log (Dagster's ``context.log``): console alerts and channel failures go there;
            None: the ``floe.alerts`` logger and stderr.
    """
    alert = FailureAlert(ctx, run_id, log)
    try:
        yield alert
    except Exception as exc:  # a cancelled run (BaseException) is not a failure to alert on
        alert.send(exc)
        raise
