"""docker/Dockerfile is never built in this lane; check it agrees with what the charts expect."""

from __future__ import annotations

import re

import yaml

from .conftest import JOBS, PLATFORM, REPO

DOCKERFILE = (REPO / "docker" / "Dockerfile").read_text()


def test_built_from_python_311_slim_with_pip() -> None:
    assert re.search(r"^ARG PYTHON_IMAGE=python:3\.11-slim$", DOCKERFILE, re.M)
    assert DOCKERFILE.count("FROM ${PYTHON_IMAGE}") == 2
    assert re.search(r"pip install \.$", DOCKERFILE, re.M)


def test_runs_as_the_uid_the_charts_use() -> None:
    assert re.search(r"^USER 10001:10001$", DOCKERFILE, re.M)
    assert "runAsUser: 10001" in (PLATFORM / "templates" / "dagster.yaml").read_text()
    assert yaml.safe_load((JOBS / "values.yaml").read_text())["podSecurityContext"]["runAsUser"] == 10001


def test_product_sources_are_where_the_charts_compile_them_from() -> None:
    platform = yaml.safe_load((PLATFORM / "values.yaml").read_text())["dagster"]
    jobs = yaml.safe_load((JOBS / "values.yaml").read_text())["defaults"]
    assert platform["sourcesDir"] == jobs["workingDir"] == "/app/demo"
    assert f"COPY --chown=10001:10001 demo/ {platform['sourcesDir']}/" in DOCKERFILE
    assert "DAGSTER_HOME=/opt/dagster/dagster_home" in DOCKERFILE
    for product in yaml.safe_load((PLATFORM / "values-demo.yaml").read_text())["products"]:
        assert (REPO / "demo" / product["name"] / "floe.yaml").is_file()


def test_nothing_is_compiled_at_build_time() -> None:
    # A product compiled here would carry the build machine's endpoints into every cluster.
    assert "floe compile" not in re.sub(r"^#.*$", "", DOCKERFILE, flags=re.M)
