"""Release manager decisions from recorded `helm status -o json` / `helm history -o json` output."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from floe.k8s.release import Action, DeploySpec, ReleaseStateError, last_good_revision, plan_release

FIXTURES = Path(__file__).parent / "fixtures"
SPEC = DeploySpec(
    release="floe-platform",
    chart="charts/floe-platform",
    namespace="floe-test",
    values_files=("charts/floe-platform/values-test.yaml",),
    timeout="10m",
)
UPGRADE = (
    "helm", "upgrade", "--install", "floe-platform", "charts/floe-platform", "--namespace", "floe-test",
    "--create-namespace", "--values", "charts/floe-platform/values-test.yaml", "--atomic", "--wait",
    "--timeout", "10m",
)  # fmt: skip
UNINSTALL = ("helm", "uninstall", "floe-platform", "--namespace", "floe-test", "--wait", "--timeout", "10m")


def rollback(revision: int) -> tuple[str, ...]:
    return (
        "helm",
        "rollback",
        "floe-platform",
        str(revision),
        "--namespace",
        "floe-test",
        "--wait",
        "--timeout",
        "10m",
    )


def load(state: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    status = json.loads((FIXTURES / f"status-{state}.json").read_text())
    history = json.loads((FIXTURES / f"history-{state}.json").read_text())
    return status, history


def test_fixtures_mirror_helm_output_keys() -> None:
    for path in FIXTURES.glob("status-*.json"):
        status = json.loads(path.read_text())
        assert {"name", "info", "version", "namespace", "chart", "config", "manifest"} <= set(status), path.name
        assert {"status", "first_deployed", "last_deployed", "description"} <= set(status["info"]), path.name
    for path in FIXTURES.glob("history-*.json"):
        for entry in json.loads(path.read_text()):
            assert set(entry) == {"revision", "updated", "status", "chart", "app_version", "description"}, path.name


def test_no_release_installs() -> None:
    plan = plan_release(None, [], SPEC)
    assert plan.action is Action.INSTALL
    assert plan.commands == (UPGRADE,)


def test_deployed_release_is_upgraded_atomically() -> None:
    plan = plan_release(*load("deployed"), SPEC)
    assert plan.action is Action.UPGRADE
    assert plan.commands == (UPGRADE,)
    assert "--atomic" in plan.commands[0] and "--wait" in plan.commands[0]


@pytest.mark.parametrize(
    ("state", "target"),
    [
        ("pending-upgrade", 2),  # revision 2 is still "deployed" while 3 is pending
        ("pending-rollback", 2),  # 3 failed, 4 is a stuck rollback to 2: 2 is the newest superseded
        ("failed", 2),  # failed upgrade: 2 was live until 3 replaced it
    ],
)
def test_stuck_or_failed_release_rolls_back_to_last_deployed_then_upgrades(state: str, target: int) -> None:
    plan = plan_release(*load(state), SPEC)
    assert plan.action is Action.ROLLBACK_THEN_UPGRADE
    assert plan.rollback_to == target
    assert plan.commands == (rollback(target), UPGRADE)
    assert state in plan.reason and f"revision {target}" in plan.reason


@pytest.mark.parametrize("state", ["pending-install", "failed-install"])
def test_release_that_never_deployed_is_uninstalled_then_installed(state: str) -> None:
    plan = plan_release(*load(state), SPEC)
    assert plan.action is Action.UNINSTALL_THEN_INSTALL
    assert plan.rollback_to is None
    assert plan.commands == (UNINSTALL, UPGRADE)
    assert "no earlier revision was ever deployed" in plan.reason


def test_interrupted_uninstall_is_finished_then_installed() -> None:
    plan = plan_release(*load("uninstalling"), SPEC)
    assert plan.action is Action.UNINSTALL_THEN_INSTALL
    assert plan.commands == (UNINSTALL, UPGRADE)


def test_uninstalled_release_with_kept_history_is_reinstalled_with_replace() -> None:
    plan = plan_release(*load("uninstalled"), SPEC)
    assert plan.action is Action.INSTALL
    (command,) = plan.commands
    assert command[:4] == ("helm", "install", "floe-platform", "charts/floe-platform")
    assert "--replace" in command and "--atomic" in command


def test_status_of_another_release_is_refused() -> None:
    status, history = load("deployed")
    status["name"] = "someone-else"
    with pytest.raises(ReleaseStateError, match=r"helm status JSON is for release 'someone-else', not 'floe-platform'"):
        plan_release(status, history, SPEC)


@pytest.mark.parametrize("state", ["unknown", "superseded", "exploded"])
def test_statuses_without_a_safe_plan_are_refused(state: str) -> None:
    status, history = load("deployed")
    status["info"]["status"] = state
    with pytest.raises(ReleaseStateError, match=rf"status '{state}'"):
        plan_release(status, history, SPEC)


def test_history_order_does_not_matter_and_newer_revisions_are_ignored() -> None:
    _, history = load("pending-upgrade")
    assert last_good_revision(list(reversed(history)), before=3) == 2
    assert last_good_revision(history, before=2) == 1
    assert last_good_revision([], before=5) is None


def test_helm4_flag_and_extra_args() -> None:
    spec = DeploySpec("floe-platform", "charts/floe-platform", "floe-test", atomic_flag="--rollback-on-failure",
                      extra_args=("--reuse-values",))  # fmt: skip
    (command,) = plan_release(*load("deployed"), spec).commands
    assert "--rollback-on-failure" in command and "--atomic" not in command
    assert command[-1] == "--reuse-values"
