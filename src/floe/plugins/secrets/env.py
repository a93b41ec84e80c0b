from __future__ import annotations

import os
from pathlib import Path
from typing import ClassVar, Literal

from pydantic import SecretStr

from floe.config._base import SecretRef
from floe.config.plugins import PluginConfig
from floe.errors import ConfigError
from floe.home import Home, read_env_file
from floe.plugins.base import HealthState, HealthStatus
from floe.plugins.interfaces import SecretsPlugin


class EnvSecretsConfig(PluginConfig):
    type: Literal["env"]
    env_file: str | None = None
    """Optional dotenv-style file read when a variable is not in the environment."""


class FileSecretsConfig(PluginConfig):
    type: Literal["file"]
    directory: str


class EnvSecretsPlugin(SecretsPlugin):
    """Secrets from environment variables (and an optional env file); the default everywhere."""

    name: ClassVar[str] = "env"
    description: ClassVar[str] = "environment variables"
    config_model = EnvSecretsConfig
    config: EnvSecretsConfig | None

    def get_secret(self, ref: SecretRef) -> SecretStr:
        if ref.source == "file":
            return FileSecretsPlugin.read(Path(ref.name), ref)
        if ref.source != "env":
            raise ConfigError(f"secret {ref} cannot be resolved by the env secrets plugin",
                              key="plugins.secrets", value=ref.source, allowed="env, file",
                              hint="use a k8s secrets plugin inside Kubernetes")
        value = os.environ.get(ref.name)
        if value is None and self.config is not None and self.config.env_file:
            value = read_env_file(Path(os.path.expandvars(self.config.env_file)).expanduser()).get(ref.name)
        if value is None:
            # the local platform's generated credentials (`floe platform up` writes them)
            value = read_env_file(Home.current().secrets_file).get(ref.name)
        if value is None:
            raise ConfigError(f"secret {ref} is not set", key=ref.name,
                              hint=f"export {ref.name}=... (or start the platform: `floe platform up` "
                                   "writes the local platform's credentials to $FLOE_HOME/secrets.env)")
        return SecretStr(value)

    def health_check(self, timeout: float = 5.0) -> HealthStatus:
        return HealthStatus(HealthState.HEALTHY, "process environment")


class FileSecretsPlugin(SecretsPlugin):
    """One file per secret in a directory (the Kubernetes mounted-secret layout)."""

    name: ClassVar[str] = "file"
    description: ClassVar[str] = "files in a directory"
    config_model = FileSecretsConfig
    config: FileSecretsConfig | None

    @staticmethod
    def read(path: Path, ref: SecretRef) -> SecretStr:
        try:
            return SecretStr(path.expanduser().read_text().strip())
        except OSError as exc:
            raise ConfigError(f"secret {ref} cannot be read: {exc.strerror}", key=ref.name,
                              hint="check the file exists and is readable") from exc

    def get_secret(self, ref: SecretRef) -> SecretStr:
        if self.config is None:
            raise ConfigError("file secrets plugin has no directory configured", key="plugins.secrets")
        return self.read(Path(self.config.directory) / ref.name, ref)

    def health_check(self, timeout: float = 5.0) -> HealthStatus:
        if self.config is None:
            return self.not_configured()
        ok = Path(self.config.directory).expanduser().is_dir()
        return HealthStatus(HealthState.HEALTHY if ok else HealthState.UNHEALTHY,
                            f"directory {self.config.directory} {'exists' if ok else 'is missing'}")
