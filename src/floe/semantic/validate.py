"""Check the ``semantic:`` section against the product's dbt project (compiler VALIDATE stage)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from floe.errors import ConfigError, ConfigErrors

if TYPE_CHECKING:
    from floe.config.dbt_project import DbtProject
    from floe.contract.semantic import SemanticSpec


def validate_semantic(spec: SemanticSpec, project: DbtProject, *, file: Path | str) -> None:
    """Every semantic model names a dbt model of the product, and every column it reads is documented.

    Compile does not start dbt, so the columns known are those listed in the model's schema.yml; a
    semantic model over an undocumented column is refused rather than failing at query time.

    Args:
        spec: the parsed ``semantic:`` section.
        project: the product's dbt project as the compiler read it.
        file: floe.yaml, named in the errors.

    Raises:
        ConfigError: one problem (file, key path, value, allowed values, fix).
        ConfigErrors: several problems, all reported at once.
    """
    problems: list[ConfigError] = []
    for i, sm in enumerate(spec.models):
        key = f"semantic.models[{i}]"
        dbt_model = project.models.get(sm.model)
        if dbt_model is None:
            problems.append(ConfigError(
                f"semantic model {sm.name!r} reads dbt model {sm.model!r}, which the product does not have",
                file=file, key=f"{key}.model", value=sm.model, allowed=", ".join(sorted(project.models)),
                hint="name one of the product's models (usually a mart under models/marts)"))
            continue
        documented = dbt_model.columns
        if not documented:
            problems.append(ConfigError(
                f"dbt model {sm.model!r} documents no columns, so the semantic model {sm.name!r} cannot be checked",
                file=file, key=f"{key}.model", value=sm.model,
                hint=f"list the columns of {sm.model} in its schema.yml (columns: [{{name: ...}}])"))
            continue
        where = str(Path(dbt_model.path).parent / "schema.yml")
        keyed = [(f"{key}.entities[{j}]", e.name, e.column) for j, e in enumerate(sm.entities)]
        keyed += [(f"{key}.dimensions[{j}]", d.name, d.column) for j, d in enumerate(sm.dimensions)]
        for item_key, name, column in keyed:
            if (column or name) not in documented:
                problems.append(_missing_column(file, item_key, column, name, column or name, sm.model, where,
                                                list(documented)))
        for j, m in enumerate(sm.measures):
            if m.column is not None and m.column not in documented:
                problems.append(_missing_column(file, f"{key}.measures[{j}]", m.column, m.name, m.column,
                                                sm.model, where, list(documented)))
    if len(problems) == 1:
        raise problems[0]
    if problems:
        raise ConfigErrors(file, problems)


def _missing_column(file: Path | str, key: str, explicit: str | None, name: str, column: str, model: str,
                    where: str, documented: list[str]) -> ConfigError:
    # An implicit column (the item's name) is reported at `.name`: that is what the user wrote.
    return ConfigError(
        f"column {column!r} is not a column of {model}", file=file,
        key=f"{key}.column" if explicit is not None else f"{key}.name", value=column,
        allowed=", ".join(documented),
        hint=f"use one of {model}'s columns (set `column:` when {name!r} differs from it), "
             f"or document the column in {where}")
