"""Dependency audit (seed 15-FR-014): every package pinned in uv.lock against the offline OSV data in
security/advisories (PyPA advisories + the seed's pillow and diskcache records)."""

from __future__ import annotations

import json
import os
import tomllib
import zipfile
from functools import cache
from pathlib import Path

import pytest
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version
from tests.conftest import ROOT

ADVISORIES = Path(os.environ.get("FLOE_ADVISORIES", ROOT / "security" / "advisories" / "PyPI" / "all.zip"))


def locked() -> dict[str, Version]:
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    return {canonicalize_name(p["name"]): Version(p["version"]) for p in lock["package"] if "version" in p}


@cache
def advisories() -> list[dict]:  # type: ignore[type-arg]
    assert ADVISORIES.exists(), f"offline advisory data missing at {ADVISORIES}"
    with zipfile.ZipFile(ADVISORIES) as z:
        return [json.loads(z.read(name)) for name in z.namelist() if name.endswith(".json")]


def _affected(version: Version, affected: dict) -> bool:  # type: ignore[type-arg]
    if str(version) in affected.get("versions", []):
        return True
    for rng in affected.get("ranges", []):
        if rng.get("type") != "ECOSYSTEM":
            continue
        introduced: Version | None = None
        for event in rng["events"]:
            try:
                if "introduced" in event:
                    introduced = Version("0" if event["introduced"] == "0" else event["introduced"])
                elif "fixed" in event and introduced is not None:
                    if introduced <= version < Version(event["fixed"]):
                        return True
                    introduced = None
                elif "last_affected" in event and introduced is not None:
                    if introduced <= version <= Version(event["last_affected"]):
                        return True
                    introduced = None
            except InvalidVersion:
                continue
        if introduced is not None and version >= introduced:
            return True
    return False


def audit(packages: dict[str, Version]) -> list[str]:
    findings = []
    for adv in advisories():
        for affected in adv.get("affected", []):
            pkg = affected.get("package", {})
            if pkg.get("ecosystem") != "PyPI":
                continue
            name = canonicalize_name(pkg.get("name", ""))
            if name in packages and _affected(packages[name], affected):
                findings.append(f"{name} {packages[name]}: {adv['id']} {adv.get('summary', '')[:80]}")
    return sorted(set(findings))


@pytest.mark.requirement("15-FR-014")
def test_no_locked_dependency_has_a_known_advisory() -> None:
    assert audit(locked()) == []


@pytest.mark.requirement("15-FR-014")
def test_pillow_patched_and_no_diskcache() -> None:
    pkgs = locked()
    assert "diskcache" not in pkgs
    if "pillow" in pkgs:
        assert pkgs["pillow"] >= Version("12.1.1")


def test_audit_detects_the_seed_advisories() -> None:
    found = audit({"pillow": Version("11.3.0"), "diskcache": Version("5.6.3")})
    assert any("GHSA-cfh3-3jmp-rvhc" in f for f in found)
    assert any("GHSA-w8v5-vhqr-4h9v" in f for f in found)
