"""Property-based: mutated demo manifests and floe.yaml files either compile or fail with a FloeError
that names the file and the key path. Never a traceback, never another exception type.

Fixed seed (derandomize) and bounded example counts: the same >= 10,000 cases run every time.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from floe.compiler.stages import compile_pipeline
from floe.config.loader import load_model
from floe.config.manifest import PlatformManifest
from floe.config.spec import FloeSpec
from floe.plugins.registry import get_registry
from tests.hostile.conftest import CASES, check_floe_error
from tests.hostile.strategies import MANIFESTS, PRODUCTS, SPECS, dump, mutated_doc, mutated_text

# Cases per property; their sum (10,050) is the lane's count. Most go through the loader (~5-20 ms a
# case), fewer through the whole compiler (~50 ms), so the lane stays near 3 minutes on 2 busy cores.
SCALE = float(os.environ.get("FLOE_HOSTILE_SCALE", "1"))  # <1 for a quick local look; the lane runs 1
BUDGET = {"spec": 3_600, "manifest": 2_700, "text": 2_750, "validate": 700, "compile": 300}
LOAD_SPEC, LOAD_MANIFEST, TEXT, VALIDATE, COMPILE = (max(1, int(n * SCALE)) for n in BUDGET.values())
FAST = settings(derandomize=True, database=None, deadline=None, print_blob=True,
                phases=[Phase.explicit, Phase.generate, Phase.shrink],
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])


def _count(kind: str) -> None:
    CASES["run"] += 1
    CASES[kind] = CASES.get(kind, 0) + 1


def _load(kind: str, path: Path, model: type, *, spec: bool) -> None:
    _count(kind)
    try:
        # a manifest's plugin slots are validated by the installed plugins' own config models
        context = get_registry().validation_context() if model is PlatformManifest else None
        load_model(path, model, forbid_infra_keys=spec, context=context)
    except BaseException as exc:  # the contract is checked, anything else re-raised
        check_floe_error(exc)


@settings(FAST, max_examples=LOAD_SPEC)
@given(st.sampled_from(PRODUCTS).flatmap(lambda p: mutated_doc(SPECS[p])))
def test_mutated_floe_yaml_loads_or_says_where(demo_dir: Path, doc: object) -> None:
    path = demo_dir / "mutated-floe.yaml"
    path.write_text(dump(doc), encoding="utf-8")
    _load("spec", path, FloeSpec, spec=True)


@settings(FAST, max_examples=LOAD_MANIFEST)
@given(st.sampled_from(sorted(MANIFESTS)).flatmap(lambda m: mutated_doc(MANIFESTS[m])))
def test_mutated_manifest_loads_or_says_where(demo_dir: Path, doc: object) -> None:
    path = demo_dir / "mutated-manifest.yaml"
    path.write_text(dump(doc), encoding="utf-8")
    _load("manifest", path, PlatformManifest, spec=False)


@settings(FAST, max_examples=TEXT)
@given(st.sampled_from([*SPECS.values(), *MANIFESTS.values()]).flatmap(
    lambda t: st.tuples(st.just(t), mutated_text(t))))
def test_broken_yaml_text_is_refused_or_loads(demo_dir: Path, case: tuple[str, str]) -> None:
    original, text = case
    path = demo_dir / "mutated-text.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    _load("text", path, FloeSpec if "FloeSpec" in original else PlatformManifest, spec="FloeSpec" in original)


@settings(FAST, max_examples=VALIDATE)
@given(st.sampled_from(PRODUCTS).flatmap(lambda p: st.tuples(st.just(p), mutated_doc(SPECS[p]))))
def test_floe_validate_on_mutated_floe_yaml(demo_dir: Path, case: tuple[str, object]) -> None:
    product, doc = case
    path = demo_dir / product / "floe.mutated.yaml"
    path.write_text(dump(doc), encoding="utf-8")
    _count("validate")
    try:
        compile_pipeline(path, demo_dir / "manifest.embedded.yaml")
    except BaseException as exc:
        check_floe_error(exc)


@settings(FAST, max_examples=COMPILE)
@given(st.sampled_from(sorted(MANIFESTS)).flatmap(lambda m: mutated_doc(MANIFESTS[m])))
def test_floe_compile_with_mutated_manifest(demo_dir: Path, doc: object) -> None:
    manifest = demo_dir / "manifest.mutated.yaml"
    manifest.write_text(dump(doc), encoding="utf-8")
    out = demo_dir / "customer-360" / "target" / "hostile-out"
    _count("compile")
    try:
        compile_pipeline(demo_dir / "customer-360", manifest, output_dir=out)
    except BaseException as exc:
        check_floe_error(exc)


def test_lane_ran_enough_cases() -> None:
    """Every property that ran used its whole budget; at full scale that is >= 10,000 cases."""
    ran = {kind: n for kind, n in CASES.items() if kind in BUDGET}
    for kind, n in ran.items():
        assert n >= max(1, int(BUDGET[kind] * SCALE)), f"{kind}: {n} cases"
    if len(ran) == len(BUDGET) and SCALE >= 1:
        assert sum(ran.values()) >= 10_000


@settings(FAST, max_examples=8, phases=[Phase.explicit, Phase.generate])
@given(st.sampled_from(PRODUCTS).flatmap(lambda p: st.tuples(
    st.just(p), st.one_of(mutated_doc(SPECS[p]).map(dump), mutated_text(SPECS[p])),
    st.sampled_from(["validate", "compile"]))))
def test_real_cli_exit_code_and_no_traceback(demo_dir: Path, case: tuple[str, str, str]) -> None:
    """A sample of the generated files through the real `floe validate` / `floe compile` process."""
    product, text, command = case
    path = demo_dir / product / "floe.cli.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    proc = subprocess.run([sys.executable, "-m", "floe.cli.main", command, str(path), "-m",
                           str(demo_dir / "manifest.embedded.yaml")],
                          capture_output=True, text=True, timeout=120, env={**os.environ, "NO_COLOR": "1"},
                          check=False)
    _count("cli")
    assert "Traceback" not in proc.stderr and "unexpected" not in proc.stderr, proc.stderr
    if proc.returncode:
        assert proc.returncode in (5, 6), proc.stderr  # ConfigError / PolicyEnforcementError
        assert "error:" in proc.stderr and ".yaml" in proc.stderr, proc.stderr
