from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from floe.config.plugins import DbtTestsQualityConfig
from floe.plugins.interfaces import QualityPlugin


class DbtTestsQualityPlugin(QualityPlugin):
    """Quality checks are the dbt project's own tests (schema.yml), run after each model."""

    name: ClassVar[str] = "dbt-tests"
    description: ClassVar[str] = "dbt generic and singular tests"
    config_model = DbtTestsQualityConfig

    def dbt_test_selector(self, models: Sequence[str]) -> list[str]:
        return ["test", "--select", " ".join(models)] if models else ["test"]
