"""Hostile YAML is refused quickly, with bounded memory and a clear message; tags never construct."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import pytest

from floe.config.loader import MAX_BYTES, MAX_DEPTH, MAX_NODES, read_yaml
from floe.errors import ConfigError
from tests.hostile.conftest import floe_cli
from tests.hostile.strategies import BOMB

# Bounds asserted per hostile file (in-process read): measured ~1-5 ms and ~1 MiB (the read buffer)
# on 2 busy cores; the bounds leave room for a slower machine but not for an expansion.
SECONDS, PEAK_BYTES = 0.5, 8 * 2**20
HOSTILE = {
    # billion laughs: 9 levels of 9 aliases, ~10^9 nodes once expanded
    "alias bomb": (BOMB + "j: &j [*i, *i, *i, *i, *i, *i, *i, *i, *i]\n",
                   f"expands to more than {MAX_NODES:,} values"),
    "deep flow nesting": ("a: " + "[" * 100_000 + "]" * 100_000 + "\n", "nested too deeply"),
    "deep block nesting": ("".join("  " * i + f"k{i}:\n" for i in range(500)), f"nested more than {MAX_DEPTH} levels"),
    "very large file": ("a: x\n" + "# padding\n" * 200_000, f"file is larger than {MAX_BYTES // 1024} KiB"),
}


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_file_is_refused_fast_with_bounded_memory(tmp_path: Path, name: str) -> None:
    text, message = HOSTILE[name]
    path = tmp_path / "floe.yaml"
    path.write_text(text)
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with pytest.raises(ConfigError) as err:
            read_yaml(path)
        seconds, peak = time.perf_counter() - start, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    print(f"{name}: {seconds * 1000:.1f} ms, peak {peak / 2**20:.2f} MiB")
    assert message in str(err.value) and str(path) in str(err.value)
    assert seconds < SECONDS and peak < PEAK_BYTES
    code, stderr = floe_cli("validate", str(path))
    assert code == 5 and message in stderr and "Traceback" not in stderr


def test_alias_bomb_through_the_real_cli_stays_small(tmp_path: Path) -> None:
    """The process as a user runs it: exit code 5 in seconds, memory near a plain start-up's."""
    bomb = tmp_path / "floe.yaml"
    bomb.write_text(HOSTILE["alias bomb"][0])

    def run(path: Path) -> tuple[int, str, float, int]:
        start = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "floe.cli.main", "validate", str(path)],
                                stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
                                env={**os.environ, "NO_COLOR": "1"})
        assert proc.stderr is not None
        stderr = proc.stderr.read()
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        return proc.returncode, stderr, time.perf_counter() - start, usage.ru_maxrss * 1024

    code, stderr, seconds, rss = run(bomb)
    # start-up and a ConfigError, nothing parsed: what any failing `floe validate` costs
    _, _, base_seconds, baseline = run(tmp_path / "missing.yaml")
    print(f"alias bomb via CLI: exit {code}, {seconds:.2f} s, max RSS {rss / 2**20:.0f} MiB "
          f"(baseline {base_seconds:.2f} s, {baseline / 2**20:.0f} MiB)")
    assert code == 5 and "expands to more than" in stderr and "Traceback" not in stderr
    # the refusal itself takes milliseconds; the margin absorbs start-up jitter on a loaded machine
    assert seconds < base_seconds + 5
    assert rss < baseline + 32 * 2**20


@pytest.mark.parametrize("tag", [
    "!!python/object/apply:os.system ['touch {marker}']",
    "!!python/object/new:subprocess.Popen [['touch', '{marker}']]",
    "!!python/name:os.system",
    "!!binary aGk=",
    "!Custom x",
])
def test_object_tags_are_never_honoured(tmp_path: Path, tag: str) -> None:
    marker = tmp_path / "pwned"
    path = tmp_path / "floe.yaml"
    path.write_text(f"apiVersion: floe.dev/v1\nmetadata:\n  name: {tag.format(marker=marker)}\n")
    with pytest.raises(ConfigError) as err:
        read_yaml(path)
    assert "metadata.name" in str(err.value) and "is not allowed" in str(err.value)
    assert not marker.exists()
    code, stderr = floe_cli("validate", str(path))
    assert code == 5 and "tags that build objects are never honoured" in stderr


@pytest.mark.parametrize(("text", "key", "message"), [
    ("a: 1\nb:\n  c: 1\n  c: 2\n", "b.c", "duplicate key"),
    ("a:\n  1: x\n", "a.1", "keys must be strings"),
    ("on: x\n", "on", "keys must be strings"),
    ("a:\n  ? [x]\n  : 1\n", "a", "keys must be plain strings"),
    ("a: 1\n---\nb: 2\n", None, "more than one YAML document (a second one starts at line 2)"),
    ("- a\n- b\n", None, "the document must be a mapping"),
    ("", None, "the document must be a mapping"),
    ("a: " + "9" * 5000 + "\n", None, "value cannot be read"),
    ("a: \x00\n", None, "invalid YAML"),
])
def test_malformed_yaml_names_the_file_and_key(tmp_path: Path, text: str, key: str | None, message: str) -> None:
    path = tmp_path / "manifest.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        read_yaml(path)
    assert message in str(err.value) and str(path) in str(err.value)
    assert err.value.key == key


def test_dates_stay_strings(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_text("a: 2024-01-01\nb: 2024-02-30\n")
    assert read_yaml(path) == {"a": "2024-01-01", "b": "2024-02-30"}


def test_anchors_and_merge_keys_still_work(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_text("base: &b {x: 1}\nc:\n  <<: *b\n  y: 2\n")
    assert read_yaml(path) == {"base": {"x": 1}, "c": {"x": 1, "y": 2}}
