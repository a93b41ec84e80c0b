"""Compile, then run: what `floe run` and `floe demo` do with a product folder.

The application layer over the compiler and the runtime; :mod:`floe.runtime` itself only reads
CompiledArtifacts.
"""

from __future__ import annotations

import time
from functools import partial
from pathlib import Path
from typing import Any

from floe.compiler.stages import compile_pipeline, output_location
from floe.contract import ARTIFACTS_FILE
from floe.plugins.interfaces import RunOptions
from floe.runtime.runner import RunResult, execute, launch_on_platform


def compile_for_run(product: Path, manifest_path: Path | None) -> Path:
    spec_path, manifest_path, out = output_location(product, manifest_path)
    compile_pipeline(spec_path, manifest_path, output_dir=out)
    return out / ARTIFACTS_FILE


def run_product(product: Path, *, manifest_path: Path | None = None, platform: bool = False,
                console: Any = None, options: RunOptions | None = None) -> RunResult:
    start = time.monotonic()
    if platform:
        return run_on_platform([product], manifest_path=manifest_path, console=console, options=options)[0]
    artifacts_path = compile_for_run(product, manifest_path)
    return execute(artifacts_path, console=console, started=start, options=options)


def run_on_platform(products: list[Path], *, manifest_path: Path | None,
                    console: Any = None, options: RunOptions | None = None) -> list[RunResult]:
    """Compile each product and run it on the platform's Dagster, all concurrently
    (:func:`floe.runtime.runner.launch_on_platform`)."""
    return launch_on_platform([partial(compile_for_run, product, manifest_path) for product in products],
                              console=console, options=options)


def run_demo(manifest: Path, *, products: list[str] | None = None, console: Any = None) -> bool:
    from rich.table import Table

    demo_dir = manifest.resolve().parent
    names = products or ["customer-360", "iot-telemetry", "financial-risk"]
    results: list[RunResult] = []
    for name in names:
        results.append(run_product(demo_dir / name, manifest_path=manifest, console=console))
    table = Table("product", "mart (Iceberg table)", "rows", "seconds", title="floe demo: marts")
    for r in results:
        for mart, rows in r.marts.items():
            table.add_row(r.product, mart, str(rows), f"{r.seconds:.1f}")
    if console:
        console.print(table)
    return all(r.success for r in results)
