from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from floe.config.plugins import PluginConfig
from floe.plugins.interfaces import CheckOutcome, QualityPlugin

if TYPE_CHECKING:
    from floe.contract import ResolvedCheck


class DbtTestsQualityConfig(PluginConfig):
    type: Literal["dbt-tests"]


class DbtTestsQualityPlugin(QualityPlugin):
    """Quality checks are the dbt project's own tests (schema.yml), run right after each model."""

    name: ClassVar[str] = "dbt-tests"
    description: ClassVar[str] = "dbt generic and singular tests"
    config_model = DbtTestsQualityConfig

    def check_file_problem(self, doc: Mapping[str, Any], columns: Sequence[str]) -> tuple[str | None, str] | None:
        return (None, "the platform's quality plugin dbt-tests runs the dbt project's tests (schema.yml) and "
                    "reads no check files")

    def run_checks(self, checks: Sequence[ResolvedCheck], read: Callable[[ResolvedCheck], Any]) -> list[CheckOutcome]:
        return []
