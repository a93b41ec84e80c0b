"""The platform's marts hold the right numbers: every gold figure in tests/math_cases.py, recomputed by
hand from the seed CSVs, equals the mart the platform's run wrote to Iceberg (read as the product's own
principal). fault_runs may rebuild two of these marts from the same seeds first; the numbers hold either
way, so the order of the tests does not matter."""

from __future__ import annotations

from typing import Any

import pytest
from tests.e2e.conftest import run_context
from tests.math_cases import ALL_CASES, MathCase, check_run

pytestmark = pytest.mark.e2e


@pytest.mark.requirement("15-FR-008")
@pytest.mark.parametrize("case", ALL_CASES, ids=lambda case: case.id)
def test_transformation_math_correctness(platform_runs: dict[str, Any], case: MathCase) -> None:
    problems = check_run(case, run_context(platform_runs[case.product]))
    assert not problems, "\n".join(problems)
