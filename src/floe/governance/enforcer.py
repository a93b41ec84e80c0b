"""Policy enforcement over the product's models and files.

``off`` records the level and checks nothing; ``warn`` records violations; ``strict`` raises
``PolicyEnforcementError`` listing every violation with its model (or file and line), rule and fix.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

from floe.config.dbt_project import DbtModel, DbtProject
from floe.config.governance import (
    GovernanceConfig,
    ProductGovernance,
    RequireMeta,
    RequireTags,
    RequireTests,
    SecretScanning,
)
from floe.contract import EnforcementLevel, EnforcementResult, ResolvedGovernance, ResolvedModel, Violation
from floe.errors import PolicyEnforcementError

NAMING_PATTERNS = {
    "dbt": r"^(stg|int|mart|dim|fct|base)_[a-z][a-z0-9_]*$",
    "medallion": r"^(bronze|silver|gold)_[a-z][a-z0-9_]*$",
    "kimball": r"^(dim|fact|fct|bridge|hub|link|sat)_[a-z][a-z0-9_]*$",
}


def resolve_governance(platform: GovernanceConfig, product: ProductGovernance) -> ResolvedGovernance:
    """Merge manifest and floe.yaml governance: a product may only make things stricter."""
    gates = platform.quality_gates
    coverage = max(gates.minimum_test_coverage, product.minimum_test_coverage or 0)
    return ResolvedGovernance(
        policy_enforcement_level=EnforcementLevel.stricter(
            platform.policy_enforcement_level, product.policy_enforcement_level
        ),
        minimum_test_coverage=coverage,
        require_descriptions=gates.require_descriptions or bool(product.require_descriptions),
        require_column_descriptions=gates.require_column_descriptions,
        block_on_failure=gates.block_on_failure,
        naming_pattern=(platform.naming.pattern if platform.naming else None),
        data_retention_days=platform.data_retention_days,
        default_ttl_hours=platform.default_ttl_hours,
        snapshot_keep_last=platform.snapshot_keep_last,
        audit_logging=platform.audit_logging,
        secret_scanning=platform.secret_scanning.enabled,
        schema_changes=platform.schema_changes.stricter(product.schema_changes),
    )


def enforce(
    product: str,
    models: Sequence[ResolvedModel],
    project: DbtProject,
    resolved: ResolvedGovernance,
    config: GovernanceConfig,
    *,
    spec_file: Path | None = None,
    asked: ProductGovernance | None = None,
) -> EnforcementResult:
    """Check the product against the platform's policy.

    Args:
        product: the product's name (for the error message).
        models: the resolved models, in dependency order.
        project: the product's dbt project (its files are scanned for secrets).
        resolved: the merged governance settings.
        config: the manifest's governance section.
        spec_file: the product's floe.yaml; its folder is the product folder that secret findings
            and ``exclude_patterns`` are relative to (default: the dbt project folder).
        asked: floe.yaml's ``governance:``; what it asks looser than the manifest is a warning.

    Returns:
        Every violation found, with counts; ``passed`` when none is an error.

    Raises:
        PolicyEnforcementError: the level is strict and an error-severity violation was found.
    """
    level = resolved.policy_enforcement_level
    if level is EnforcementLevel.OFF:
        return EnforcementResult(enforcement_level=level, passed=True, error_count=0, warning_count=0,
                                 models_validated=0, policy_types_checked=[], violations=[])
    checked = ["documentation", "test_coverage"]
    violations: list[Violation] = (list(_looser(config, asked, spec_file.name if spec_file else "floe.yaml"))
                                  if asked is not None else [])
    for m in models:
        dbt_model = project.models[m.name]
        violations += _documentation(dbt_model, resolved)
        violations += _coverage(dbt_model, resolved)
    if config.naming is not None and config.naming.enforcement is not EnforcementLevel.OFF:
        checked.append("naming")
        severity = "error" if config.naming.enforcement is EnforcementLevel.STRICT else "warning"
        patterns = config.naming.custom_patterns if config.naming.pattern == "custom" else \
            [NAMING_PATTERNS[config.naming.pattern]]
        violations += _naming(models, patterns, config.naming.pattern, severity)
    if config.custom_rules:
        checked.append("custom")
        violations += _custom(project, models, config)
    if config.secret_scanning.enabled:
        checked.append("secret_scanning")
        violations += _secrets(project, config.secret_scanning, spec_file)
    errors = sum(v.severity == "error" for v in violations)
    result = EnforcementResult(
        enforcement_level=level, passed=errors == 0, error_count=errors,
        warning_count=len(violations) - errors, models_validated=len(models),
        policy_types_checked=sorted(checked), violations=violations,
    )
    if level is EnforcementLevel.STRICT and errors:
        raise PolicyEnforcementError(product, [v for v in violations if v.severity == "error"])
    return result


def _looser(config: GovernanceConfig, asked: ProductGovernance, spec_name: str) -> Iterable[Violation]:
    """What floe.yaml asks that is looser than the manifest: not applied (a product may only be stricter),
    and said so instead of silently."""
    gates = config.quality_gates
    level = asked.policy_enforcement_level
    looser: list[tuple[str, object, object]] = []
    if level is not None and level.rank < config.policy_enforcement_level.rank:
        looser.append(("policy_enforcement_level", level.value, config.policy_enforcement_level.value))
    if asked.minimum_test_coverage is not None and asked.minimum_test_coverage < gates.minimum_test_coverage:
        looser.append(("minimum_test_coverage", asked.minimum_test_coverage, gates.minimum_test_coverage))
    if asked.require_descriptions is False and gates.require_descriptions:
        looser.append(("require_descriptions", False, True))
    if asked.schema_changes is not None:
        looser += [(f"schema_changes.{key}", mine, theirs)
                   for key, mine, theirs in config.schema_changes.looser(asked.schema_changes)]
    for key, mine, theirs in looser:
        yield Violation(rule="governance_override", model=f"governance.{key}", severity="warning",
                        message=f"{spec_name} asks governance.{key}: {mine}, looser than the manifest's {theirs}; "
                                f"the manifest's {theirs} applies (a product may only be stricter)",
                        fix=f"remove governance.{key} from {spec_name}, or ask the platform team to change "
                            "the manifest", file=spec_name)


def _documentation(model: DbtModel, gov: ResolvedGovernance) -> Iterable[Violation]:
    if gov.require_descriptions and not model.description:
        yield Violation(rule="documentation", model=model.name, severity="error",
                        message="model has no description",
                        fix=f"add `description:` for model {model.name} in its schema.yml")
    if gov.require_column_descriptions:
        for col in model.columns.values():
            if not col.description:
                yield Violation(rule="documentation", model=model.name, severity="error",
                                message=f"column {col.name} has no description",
                                fix=f"describe column {col.name} of {model.name} in schema.yml")


def _coverage(model: DbtModel, gov: ResolvedGovernance) -> Iterable[Violation]:
    if gov.minimum_test_coverage == 0:
        return
    if model.columns:
        tested = sum(1 for c in model.columns.values() if c.tests)
        pct = round(100 * tested / len(model.columns))
    else:
        pct = 100 if model.model_tests else 0
    if pct < gov.minimum_test_coverage:
        yield Violation(rule="test_coverage", model=model.name, severity="error",
                        message=f"test coverage {pct}% is below the required {gov.minimum_test_coverage}%",
                        fix=f"add tests (not_null, unique, ...) to more columns of {model.name} in schema.yml")


def _naming(models: Sequence[ResolvedModel], patterns: list[str], label: str, severity: str) -> Iterable[Violation]:
    compiled = [re.compile(p) for p in patterns]
    for m in models:
        if not any(p.fullmatch(m.name) for p in compiled):
            yield Violation(rule="naming", model=m.name, severity="error" if severity == "error" else "warning",
                            message=f"name does not follow the {label} convention ({' | '.join(patterns)})",
                            fix=f"rename {m.name} to match {patterns[0]}")


def _custom(project: DbtProject, models: Sequence[ResolvedModel], config: GovernanceConfig) -> Iterable[Violation]:
    for rule in config.custom_rules:
        for m in models:
            dbt_model = project.models[m.name]
            if isinstance(rule, RequireTags) and m.name.startswith(rule.prefix):
                missing = sorted(set(rule.required_tags) - set(m.tags) - set(dbt_model.tags))
                if missing:
                    yield Violation(rule="custom.require_tags_for_prefix", model=m.name, severity="error",
                                    message=f"missing required tags {missing}",
                                    fix=f"tag {m.name} with {missing} (floe.yaml transforms[].tags)")
            elif isinstance(rule, RequireMeta) and fnmatch.fnmatch(m.name, rule.applies_to):
                if rule.field not in dbt_model.meta:
                    yield Violation(rule="custom.require_meta_field", model=m.name, severity="error",
                                    message=f"meta field {rule.field!r} is missing",
                                    fix=f"add `config: {{meta: {{{rule.field}: ...}}}}` to {m.name}")
            elif isinstance(rule, RequireTests) and fnmatch.fnmatch(m.name, rule.applies_to):
                present = set(dbt_model.model_tests) | {t for c in dbt_model.columns.values() for t in c.tests}
                missing = sorted(set(rule.test_types) - present)
                if missing:
                    yield Violation(rule="custom.require_tests_of_type", model=m.name, severity="error",
                                    message=f"missing tests of type {missing}",
                                    fix=f"add {missing} tests to {m.name} in schema.yml")


_MOVE_TO_A_REFERENCE = (
    "move the value to a secret reference (env:NAME in manifest.yaml, resolved at run time by the secrets plugin; "
    "in dbt, {{{{ env_var('NAME') }}}}) and rotate it; if it is not a secret, add {file!r} to "
    "governance.secret_scanning.exclude_patterns"
)


def _secrets(project: DbtProject, config: SecretScanning, spec_file: Path | None) -> Iterable[Violation]:
    """Secret findings as violations: errors (like every other policy's findings; only strict level
    stops the compile on them) unless ``severity: warning`` or the pattern's own severity says so."""
    from floe.governance.secrets import MAX_FINDINGS_PER_FILE, Severity, scan_product

    product = spec_file.parent if spec_file is not None else project.root
    result = scan_product(product, project.root, extra_files=[spec_file] if spec_file is not None else [],
                          exclude_patterns=config.exclude_patterns, custom_patterns=config.custom_patterns)

    def severity(found: Severity) -> Severity:
        return "error" if config.severity == "error" and found == "error" else "warning"

    for f in result.findings:
        yield Violation(rule=f"secret_scanning.{f.code}", model=f"{f.file}:{f.line}", severity=severity(f.severity),
                        message=f"possible {f.what} ({f.masked})", fix=_MOVE_TO_A_REFERENCE.format(file=f.file),
                        file=f.file, line=f.line)
    for file in result.overflowing:
        yield Violation(rule="secret_scanning", model=file, severity=severity("error"),
                        message=f"more possible secrets than the {MAX_FINDINGS_PER_FILE} listed; the scan of this "
                                "file stopped there", fix=_MOVE_TO_A_REFERENCE.format(file=file), file=file)
