"""One error tree for floe.

Every message names what was wrong, the value received, what is allowed and what to do next.
The CLI prints ``str(exc)`` without a traceback unless ``--debug`` is given.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any


class FloeError(Exception):
    """Root of every error floe raises on purpose."""

    exit_code: int = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        self.message = message
        self.hint = hint
        super().__init__(message)

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message}\n  -> {self.hint}"
        return self.message


class ConfigError(FloeError):
    """A manifest.yaml / floe.yaml (or other input file) problem."""

    exit_code = 5

    def __init__(
        self,
        message: str,
        *,
        file: Path | str | None = None,
        key: str | None = None,
        value: Any = None,
        allowed: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.file = Path(file) if file is not None else None
        self.key = key
        self.value = value
        self.allowed = allowed
        super().__init__(message, hint=hint)

    def __str__(self) -> str:
        where = str(self.file) if self.file else "<input>"
        if self.key:
            where += f": {self.key}"
        lines = [f"{where}: {self.message}"]
        if self.value is not None:
            lines.append(f"  got: {_short(self.value)}")
        if self.allowed:
            lines.append(f"  allowed: {self.allowed}")
        if self.hint:
            lines.append(f"  -> {self.hint}")
        return "\n".join(lines)


class ConfigErrors(ConfigError):
    """Several problems in one file, reported together so the user fixes them in one pass."""

    def __init__(self, file: Path | str, errors: Sequence[ConfigError]) -> None:
        self.errors = list(errors)
        super().__init__(f"{len(self.errors)} problem(s)", file=file)

    def __str__(self) -> str:
        header = f"{self.file}: {len(self.errors)} problem(s)"
        return "\n".join([header, *(_indent(str(e)) for e in self.errors)])


class CompilationError(FloeError):
    """A compiler stage failed for a reason that is not a config or policy problem."""

    exit_code = 7

    def __init__(self, stage: str, message: str, *, hint: str | None = None) -> None:
        self.stage = stage
        super().__init__(f"[{stage}] {message}", hint=hint)


class PolicyEnforcementError(FloeError):
    """Strict governance found error-severity violations; nothing was written."""

    exit_code = 6

    def __init__(self, product: str, violations: Sequence[Any]) -> None:
        self.product = product
        self.violations = list(violations)
        lines = [f"governance (strict) blocked {product}: {len(self.violations)} violation(s)"]
        for v in self.violations:
            lines.append(f"  - {v.model}: [{v.rule}] {v.message}")
            lines.append(f"    fix: {v.fix}")
        super().__init__("\n".join(lines))


class PluginError(FloeError):
    """Base for plugin problems; carries the plugin's type, name and version when known."""

    def __init__(
        self,
        message: str,
        *,
        plugin: str | None = None,
        version: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.plugin = plugin
        self.version = version
        prefix = f"plugin {plugin}" + (f" {version}" if version else "") + ": " if plugin else ""
        super().__init__(prefix + message, hint=hint)


class PluginNotFoundError(PluginError):
    pass


class PluginIncompatibleError(PluginError):
    pass


class PluginConfigurationError(PluginError):
    pass


class ServiceError(FloeError):
    """A platform service could not be reached or answered badly."""

    exit_code = 8


class ServiceUnavailableError(ServiceError):
    pass


class AuthenticationError(ServiceError):
    """401: the credentials were missing, wrong or expired."""


class AuthorizationError(ServiceError):
    """403: the credentials are valid but not allowed to do this."""


class NotFoundError(ServiceError):
    pass


class ConflictError(ServiceError):
    pass


class RuntimeFailure(FloeError):
    """A data product run failed (dbt, orchestrator); ``run_id`` is the orchestrator's run, when one ran."""

    exit_code = 9

    def __init__(self, message: str, *, hint: str | None = None, run_id: str | None = None) -> None:
        self.run_id = run_id
        super().__init__(message, hint=hint)


class RunInterrupted(RuntimeFailure):
    """The user interrupted a run (Ctrl-C): not a model's failure."""

    exit_code = 130


class RunsFailed(RuntimeFailure):
    """Runs launched together, some of which failed: each failure by product, and what succeeded."""

    def __init__(self, failures: dict[str, RuntimeFailure], succeeded: dict[str, Any]) -> None:
        self.failures = failures
        self.succeeded = succeeded
        hints = [f.hint for f in failures.values() if f.hint]
        super().__init__("\n\n".join(f.message for f in failures.values()), hint="; ".join(hints) or None)


def error_for_status(status: int, what: str, body: str = "", *, hint: str | None = None) -> ServiceError:
    """Map an HTTP status to the typed floe error, in one place."""
    detail = f"{what}: HTTP {status}" + (f": {_short(body, 300)}" if body else "")
    if status == 401:
        return AuthenticationError(detail, hint=hint or "check the credentials (secret reference) and retry")
    if status == 403:
        return AuthorizationError(detail, hint=hint or "grant the principal the privilege it needs")
    if status == 404:
        return NotFoundError(detail, hint=hint)
    if status == 409:
        return ConflictError(detail, hint=hint)
    if status >= 500:
        return ServiceUnavailableError(detail, hint=hint or "check the service log (`floe platform logs`)")
    return ServiceError(detail, hint=hint)


def _short(value: Any, limit: int = 120) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _indent(text: str) -> str:
    return "\n".join("  " + line for line in text.splitlines())
