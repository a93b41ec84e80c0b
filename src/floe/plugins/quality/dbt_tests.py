from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar, Literal

from floe.config.plugins import PluginConfig
from floe.plugins.interfaces import QualityPlugin


class DbtTestsQualityConfig(PluginConfig):
    type: Literal["dbt-tests"]


class DbtTestsQualityPlugin(QualityPlugin):
    """Quality checks are the dbt project's own tests (schema.yml), run after each model."""

    name: ClassVar[str] = "dbt-tests"
    description: ClassVar[str] = "dbt generic and singular tests"
    config_model = DbtTestsQualityConfig

    def dbt_test_selector(self, models: Sequence[str]) -> list[str]:
        return ["test", "--select", " ".join(models)] if models else ["test"]
