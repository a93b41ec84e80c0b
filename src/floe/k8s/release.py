"""What to do with a Helm release before (re)deploying it, decided from Helm's own JSON.

A release stuck in ``pending-*`` blocks every later ``helm upgrade`` ("another operation is in
progress"), and a ``failed`` one is left half-applied. :func:`plan_release` reads the parsed
output of ``helm status <release> -o json`` and ``helm history <release> -o json`` and returns the
commands that get the release back to a known state and then deploy the chart. It runs nothing:
the caller (CLI, CI script, e2e harness) executes :attr:`ReleasePlan.commands` in order.

    >>> plan = plan_release(None, [], DeploySpec("floe-platform", "charts/floe-platform", "floe-test"))
    >>> plan.action
    <Action.INSTALL: 'install'>
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from floe.errors import FloeError

__all__ = ["Action", "DeploySpec", "ReleasePlan", "ReleaseStateError", "plan_release"]

PENDING = frozenset({"pending-install", "pending-upgrade", "pending-rollback"})
KNOWN = PENDING | {"deployed", "failed", "uninstalling", "uninstalled", "superseded", "unknown"}


class ReleaseStateError(FloeError):
    """Helm's status/history cannot be turned into a safe plan."""


class Action(StrEnum):
    INSTALL = "install"
    UPGRADE = "upgrade"
    ROLLBACK_THEN_UPGRADE = "rollback-then-upgrade"
    UNINSTALL_THEN_INSTALL = "uninstall-then-install"


@dataclass(frozen=True)
class DeploySpec:
    """The deployment the caller wants.

    Attributes:
        release: Helm release name.
        chart: chart path or reference.
        namespace: target namespace.
        values_files: ``-f`` files, in order.
        timeout: Helm duration for ``--timeout`` (install/upgrade/rollback/uninstall).
        atomic_flag: ``--atomic`` (Helm 3); Helm 4 names it ``--rollback-on-failure``.
        extra_args: appended to the install/upgrade command (e.g. ``--set``, ``--reuse-values``).
    """

    release: str
    chart: str
    namespace: str
    values_files: tuple[str, ...] = ()
    timeout: str = "10m"
    atomic_flag: str = "--atomic"
    extra_args: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReleasePlan:
    """The decision: what, why, and the exact command lines, to run in order."""

    action: Action
    reason: str
    status: str | None
    rollback_to: int | None = None
    commands: tuple[tuple[str, ...], ...] = field(default_factory=tuple)


def plan_release(
    status: Mapping[str, Any] | None, history: Sequence[Mapping[str, Any]] | None, spec: DeploySpec
) -> ReleasePlan:
    """Decide how to deploy ``spec`` given the release's current state.

    Args:
        status: parsed ``helm status <release> -o json``; ``None`` when Helm says the release is
            not found.
        history: parsed ``helm history <release> -o json`` (``[]`` or ``None`` when not found).
        spec: what to deploy.

    Returns:
        ``deployed`` -> upgrade (``--atomic --wait``); no release or ``uninstalled`` -> install;
        ``pending-install|pending-upgrade|pending-rollback`` and ``failed`` -> roll back to the last
        revision that was deployed, then upgrade (uninstall then install when there is none);
        ``uninstalling`` -> finish the uninstall, then install.

    Raises:
        ReleaseStateError: the JSON belongs to another release, or the status is one no plan
            can safely start from (``unknown``, or a status Helm does not define).
    """
    upgrade = _upgrade_command(spec)
    if status is None:
        return ReleasePlan(Action.INSTALL, f"release {spec.release} does not exist", None, commands=(upgrade,))

    name = status.get("name")
    if name != spec.release:
        raise ReleaseStateError(
            f"helm status JSON is for release {name!r}, not {spec.release!r}",
            hint="pass the output of `helm status <release> -o json` for the release being deployed",
        )
    state = str((status.get("info") or {}).get("status", "")).lower()
    current = int(status.get("version", 0))
    if state not in KNOWN:
        raise ReleaseStateError(
            f"release {spec.release} has status {state!r}; expected one of {sorted(KNOWN)}",
            hint="check `helm status` by hand; this Helm may be newer than floe knows",
        )

    if state == "deployed":
        return ReleasePlan(Action.UPGRADE, f"revision {current} is deployed", state, commands=(upgrade,))
    if state == "uninstalled":
        install = _install_replace_command(spec)
        return ReleasePlan(
            Action.INSTALL, f"revision {current} was uninstalled (history kept)", state, commands=(install,)
        )
    if state == "uninstalling":
        return ReleasePlan(
            Action.UNINSTALL_THEN_INSTALL,
            f"an uninstall of revision {current} did not finish",
            state,
            commands=(_uninstall_command(spec), upgrade),
        )
    if state in PENDING or state == "failed":
        target = last_good_revision(history or [], before=current)
        if target is None:
            return ReleasePlan(
                Action.UNINSTALL_THEN_INSTALL,
                f"revision {current} is {state} and no earlier revision was ever deployed",
                state,
                commands=(_uninstall_command(spec), upgrade),
            )
        return ReleasePlan(
            Action.ROLLBACK_THEN_UPGRADE,
            f"revision {current} is {state}; revision {target} was the last deployed",
            state,
            rollback_to=target,
            commands=(_rollback_command(spec, target), upgrade),
        )
    raise ReleaseStateError(
        f"release {spec.release} is in status {state!r} (revision {current}); floe will not guess",
        hint=f"inspect with `helm history {spec.release} -n {spec.namespace}` and repair by hand",
    )


def last_good_revision(history: Sequence[Mapping[str, Any]], *, before: int | None = None) -> int | None:
    """The newest revision (older than ``before``) that is ``deployed``, else the newest
    ``superseded`` one (a revision that was live until a later one replaced it)."""
    entries = sorted(history, key=lambda e: int(e["revision"]), reverse=True)
    if before is not None:
        entries = [e for e in entries if int(e["revision"]) < before]
    for wanted in ("deployed", "superseded"):
        for entry in entries:
            if str(entry.get("status", "")).lower() == wanted:
                return int(entry["revision"])
    return None


def _namespace(spec: DeploySpec) -> tuple[str, ...]:
    return ("--namespace", spec.namespace)


def _upgrade_command(spec: DeploySpec) -> tuple[str, ...]:
    values = tuple(arg for path in spec.values_files for arg in ("--values", path))
    return (
        "helm", "upgrade", "--install", spec.release, spec.chart, *_namespace(spec), "--create-namespace",
        *values, spec.atomic_flag, "--wait", "--timeout", spec.timeout, *spec.extra_args,
    )  # fmt: skip


def _install_replace_command(spec: DeploySpec) -> tuple[str, ...]:
    values = tuple(arg for path in spec.values_files for arg in ("--values", path))
    return (
        "helm", "install", spec.release, spec.chart, *_namespace(spec), "--replace",
        *values, spec.atomic_flag, "--wait", "--timeout", spec.timeout, *spec.extra_args,
    )  # fmt: skip


def _rollback_command(spec: DeploySpec, revision: int) -> tuple[str, ...]:
    return ("helm", "rollback", spec.release, str(revision), *_namespace(spec), "--wait", "--timeout", spec.timeout)


def _uninstall_command(spec: DeploySpec) -> tuple[str, ...]:
    return ("helm", "uninstall", spec.release, *_namespace(spec), "--wait", "--timeout", spec.timeout)
