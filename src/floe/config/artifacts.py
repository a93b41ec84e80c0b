"""manifest.yaml ``artifacts:``: the OCI registry compiled artifacts go to and how they are promoted.

```yaml
artifacts:
  registry:
    url: https://registry.example.com   # default: the local platform's (platform.registry_port)
    username: env:FLOE_REGISTRY_USER    # secret references, never values
    password: env:FLOE_REGISTRY_PASSWORD
  promotion:
    audit_command: [pip-audit, --strict]
    environments:                       # in promotion order; artifacts are pushed into the first
      - dev
      - name: staging
        gates: {vulnerability_audit: if_configured}
      - name: prod
        gates: {vulnerability_audit: required}
```
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from floe.config._base import SecretRef, Url
from floe.contract import FloeModel

ENV_NAME = re.compile(r"[a-z][a-z0-9]{0,15}")
DEFAULT_USER_REF = "env:FLOE_REGISTRY_USER"
DEFAULT_PASSWORD_REF = "env:FLOE_REGISTRY_PASSWORD"  # noqa: S105 - a reference, not a password


class RegistryConfig(FloeModel):
    """Where artifacts are pushed; ``--registry`` / ``FLOE_REGISTRY_URL`` override ``url``."""

    url: Url | None = None
    """None: the local platform's registry, ``http://127.0.0.1:<platform.registry_port>``."""
    username: SecretRef = Field(default_factory=lambda: SecretRef.model_validate(DEFAULT_USER_REF))
    password: SecretRef = Field(default_factory=lambda: SecretRef.model_validate(DEFAULT_PASSWORD_REF))


class PromotionGates(FloeModel):
    """Gates of a promotion into one environment. ``compiles`` and ``signature`` always run: they are
    what makes a promoted artifact trustworthy, so they cannot be switched off."""

    tests_passed: bool = True
    """Require governance and tests to have passed at compile time (``enforcement_result.passed``)."""
    vulnerability_audit: Literal["required", "if_configured", "off"] = "if_configured"
    """required: fails without an ``audit_command``; if_configured: runs it when there is one, else
    skipped; off: never runs."""


class EnvironmentConfig(FloeModel):
    """One environment; written as a bare name (``staging``) or a mapping with ``gates``."""

    name: str
    gates: PromotionGates = Field(default_factory=PromotionGates)

    @model_validator(mode="before")
    @classmethod
    def _from_name(cls, data: object) -> object:
        return {"name": data} if isinstance(data, str) else data

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not ENV_NAME.fullmatch(value):
            raise ValueError(f"environment name {value!r} is not allowed: a lowercase letter, then up to 15 "
                             "lowercase letters or digits (e.g. staging); rename it")
        return value


def _default_environments() -> list[EnvironmentConfig]:
    return [EnvironmentConfig(name="dev"), EnvironmentConfig(name="staging"),
            EnvironmentConfig(name="prod", gates=PromotionGates(vulnerability_audit="required"))]


class PromotionConfig(FloeModel):
    """Environments in promotion order, their gates, and the vulnerability audit command."""

    environments: list[EnvironmentConfig] = Field(default_factory=_default_environments)
    """In promotion order; artifacts are pushed into the first (default dev -> staging -> prod, with
    the vulnerability audit required for prod)."""
    audit_command: list[str] | None = None
    """Vulnerability audit run per promotion (argv, no shell); must exit 0. ``{path}`` (the artifact
    file), ``{digest}`` and ``{ref}`` are substituted; the same values are in FLOE_ARTIFACT_PATH,
    FLOE_ARTIFACT_DIGEST and FLOE_ARTIFACT_REF."""
    gate_timeout_seconds: Annotated[float, Field(gt=0, le=3600)] = 300.0

    @field_validator("audit_command")
    @classmethod
    def _command(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and (not value or not value[0].strip()):
            raise ValueError("audit_command must be a non-empty argv list, e.g. [pip-audit, --strict]; "
                             "or remove the key")
        return value

    @field_validator("environments")
    @classmethod
    def _order(cls, environments: list[EnvironmentConfig]) -> list[EnvironmentConfig]:
        names = [e.name for e in environments]
        if len(names) < 2 or len(set(names)) != len(names):
            raise ValueError(f"need at least two distinct names in promotion order, got {names}; "
                             "e.g. [dev, staging, prod]")
        first = environments[0]
        if first.gates != PromotionGates():
            raise ValueError(f"the first environment ({first.name}) has gates, but artifacts are pushed into it, "
                             "never promoted into it, so they would never run; remove them")
        return environments

    @property
    def env_tuple(self) -> tuple[str, ...]:
        return tuple(e.name for e in self.environments)

    def gates_for(self, environment: str) -> PromotionGates:
        """The gates of promotions into ``environment`` (defaults for an unknown name)."""
        return next((e.gates for e in self.environments if e.name == environment), PromotionGates())


class ArtifactsConfig(FloeModel):
    """``artifacts:`` in manifest.yaml, read by ``floe artifacts ...``."""

    registry: RegistryConfig = Field(default_factory=RegistryConfig)
    promotion: PromotionConfig = Field(default_factory=PromotionConfig)
