"""Dagster's GraphQL API, current shape only (`repositoriesOrError`, `workspaceOrError`; seed 15-FR-007):
how the dagster orchestrator plugin launches and follows platform runs."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from floe.errors import RuntimeFailure, ServiceUnavailableError, error_for_status
from floe.plugins.interfaces import RunStatus


class DagsterClient:
    def __init__(self, url: str, timeout: float = 30) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout

    def query(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        for attempt in (1, 2):
            try:
                r = httpx.post(f"{self.url}/graphql", json={"query": query, "variables": variables or {}},
                               timeout=self.timeout)
            except httpx.HTTPError as exc:
                raise ServiceUnavailableError(f"Dagster at {self.url} unreachable: {exc}",
                                              hint="start the platform: `floe platform up`") from exc
            # After PostgreSQL restarted, the webserver's pooled connection is dead: its first query fails
            # with a connection error before anything ran, and the next one reconnects. Ask once more.
            if not (attempt == 1 and r.status_code == 500 and "server closed the connection" in r.text):
                break
            time.sleep(0.5)
        if r.status_code != 200:
            raise error_for_status(r.status_code, "Dagster GraphQL", r.text)
        body = r.json()
        if body.get("errors"):
            raise RuntimeFailure(f"Dagster GraphQL error: {body['errors'][0].get('message')}")
        return dict(body["data"])

    def locations(self) -> dict[str, str]:
        data = self.query("{ workspaceOrError { ... on Workspace { locationEntries { name loadStatus } } } }")
        return {e["name"]: e["loadStatus"] for e in data["workspaceOrError"]["locationEntries"]}

    def loaded_since(self, name: str) -> float:
        """When the code location last loaded (epoch seconds); 0 when it is not loaded."""
        data = self.query("{ workspaceOrError { ... on Workspace { locationEntries { name loadStatus "
                          "updatedTimestamp } } } }")
        entry = next((e for e in data["workspaceOrError"]["locationEntries"] if e["name"] == name), None)
        if entry is None or entry["loadStatus"] != "LOADED":
            return 0.0
        return float(entry["updatedTimestamp"])

    def reload_location(self, name: str) -> None:
        self.query("""mutation($n: String!) { reloadRepositoryLocation(repositoryLocationName: $n) {
            __typename ... on PythonError { message } } }""", {"n": name})

    def wait_loaded(self, name: str, timeout: float = 300) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.locations().get(name) == "LOADED":
                return
            time.sleep(1)
        raise RuntimeFailure(f"code location {name} did not load within {timeout:.0f}s",
                             hint="`floe platform logs dagster-webserver`")

    def launch(self, location: str, job: str, tags: Mapping[str, str] | None = None) -> str:
        data = self.query("""mutation($p: ExecutionParams!) { launchRun(executionParams: $p) { __typename
            ... on LaunchRunSuccess { run { runId } } ... on PythonError { message }
            ... on RunConfigValidationInvalid { errors { message } } ... on InvalidSubsetError { message }
            ... on PipelineNotFoundError { message } } }""",
            {"p": {"selector": {"repositoryLocationName": location, "repositoryName": "__repository__",
                                "jobName": job}, "runConfigData": {},
                    "executionMetadata": {"tags": [{"key": k, "value": v} for k, v in (tags or {}).items()]}}})
        result = data["launchRun"]
        if result["__typename"] != "LaunchRunSuccess":
            detail = result.get("message") or result.get("errors")
            raise RuntimeFailure(f"Dagster refused to launch {job} in {location}: {result['__typename']}: {detail}")
        return str(result["run"]["runId"])

    def status(self, run_id: str) -> RunStatus:
        data = self.query("""query($id: ID!) { runOrError(runId: $id) { __typename ... on Run { status
            stepStats { stepKey status } } } }""", {"id": run_id})
        run = data["runOrError"]
        steps = {s["stepKey"]: s["status"] or "" for s in run.get("stepStats") or []}
        return RunStatus(run_id, run["status"], steps)

    def failure_messages(self, run_id: str) -> list[str]:
        data = self.query("""query($id: ID!) { logsForRun(runId: $id) { __typename ... on EventConnection {
            events { __typename ... on ExecutionStepFailureEvent { stepKey error { message } }
                     ... on RunFailureEvent { message } } } } }""", {"id": run_id})
        events = data["logsForRun"].get("events") or []
        out = []
        for e in events:
            if e["__typename"] == "ExecutionStepFailureEvent" and e.get("error"):
                out.append(f"{e['stepKey']}: {e['error']['message'].strip()[:1500]}")
        return out

    def wait(self, run_id: str, timeout: float = 1800,
             on_change: Callable[[RunStatus], None] | None = None) -> RunStatus:
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            st = self.status(run_id)
            if on_change and (last is None or (st.status, st.steps) != (last.status, last.steps)):
                on_change(st)
            last = st
            if st.finished:
                return st
            time.sleep(1)
        raise RuntimeFailure(f"run {run_id} not finished after {timeout:.0f}s",
                             hint="see the run in Dagster's UI (http://127.0.0.1:3000)")


@dataclass
class DagsterRun:
    """A run launched on the platform's Dagster (``PlatformRun``)."""

    client: DagsterClient
    run_id: str
    url: str = field(init=False)

    def __post_init__(self) -> None:
        self.url = f"{self.client.url}/runs/{self.run_id}"

    def wait(self, on_change: Callable[[RunStatus], None] | None = None) -> RunStatus:
        return self.client.wait(self.run_id, on_change=on_change)

    def failure_messages(self) -> list[str]:
        return [readable_step_error(m) for m in self.client.failure_messages(self.run_id)]


def launch(url: str, location: str, job: str, *, changed: float, tags: Mapping[str, str] | None = None) -> DagsterRun:
    """Reload the product's code location unless it loaded after ``changed`` (an unchanged compile
    rewrites nothing), then launch its job."""
    client = DagsterClient(url)
    if client.loaded_since(location) < changed:
        client.reload_location(location)
        client.wait_loaded(location)
    return DagsterRun(client, client.launch(location, job, tags))


def readable_step_error(message: str) -> str:
    """Dagster's step failure as a data engineer wants it: dbt's own error (what failed, which endpoint),
    without dagster-dbt's boilerplate or the Python traceback dbt appends (it is in the run's log)."""
    text = message.split("Traceback (most recent call last)", 1)[0]
    text = text.replace("dagster._core.definitions.events.Failure: ", "")  # floe's own message (ingestion)
    if "Errors parsed from dbt logs:" in text:
        step = text.split(":", 1)[0] if text.split(":", 1)[0].isidentifier() else ""
        text = (f"{step}: " if step else "") + text.split("Errors parsed from dbt logs:", 1)[1].strip()
    return "\n".join(line for line in text.strip().splitlines() if line.strip())
