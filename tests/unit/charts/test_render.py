"""floe.k8s.render: values layering and error messages."""

from __future__ import annotations

import pytest

from floe.errors import FloeError
from floe.k8s.render import ChartRenderError, load_values, merge_values, render_chart

from .conftest import JOBS


def test_merge_is_deep_for_maps_and_replaces_lists() -> None:
    base = {"a": {"b": 1, "c": [1, 2]}, "keep": True}
    over = {"a": {"c": [3]}, "new": {"x": 1}}
    assert merge_values(base, over) == {"a": {"b": 1, "c": [3]}, "keep": True, "new": {"x": 1}}
    assert base == {"a": {"b": 1, "c": [1, 2]}, "keep": True}, "inputs are not mutated"


def test_later_values_files_win(tmp_path) -> None:
    (tmp_path / "a.yaml").write_text("x: {y: 1, z: 1}\n")
    (tmp_path / "b.yaml").write_text("x: {y: 2}\n")
    assert load_values([tmp_path / "a.yaml", tmp_path / "b.yaml"], {"x": {"z": 3}}) == {"x": {"y": 2, "z": 3}}


def test_values_file_that_is_not_a_mapping_is_named(tmp_path) -> None:
    (tmp_path / "list.yaml").write_text("- a\n- b\n")
    with pytest.raises(ChartRenderError, match=r"list.yaml must hold a mapping, got list"):
        load_values([tmp_path / "list.yaml"])


def test_missing_values_file_is_named(tmp_path) -> None:
    with pytest.raises(ChartRenderError, match=r"cannot read values file .*nope.yaml"):
        load_values([tmp_path / "nope.yaml"])


def test_render_errors_are_floe_errors_naming_chart_and_values() -> None:
    with pytest.raises(FloeError) as info:
        render_chart(JOBS, values={"products": [{"name": "Not_A_DNS_Name"}]})
    message = str(info.value)
    assert "floe-jobs" in message and "extra values" in message and "/products/0/name" in message


def test_release_name_defaults_to_the_chart_directory() -> None:
    objs = render_chart(JOBS, values={"products": [{"name": "p1"}]})
    assert {o["metadata"]["labels"]["app.kubernetes.io/instance"] for o in objs} == {"floe-jobs"}
