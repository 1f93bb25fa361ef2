"""The bundled demo trading workspace, in three profiles.

- ``seed``: the trading repository of the reference gap report (23 test files, 31 result files)
  and nothing else: golive reproduces the report's coverage.
- ``healthy``: the same repository plus what golive's checkers read -- Databento MBO data,
  trading records for five weeks (shadow, limited live, live), logs, metrics, configuration with
  git history -- all consistent and mostly passing.
- ``degraded``: the healthy workspace with known faults injected (a memory leak, a disk at 91 %,
  a 45-minute outage, a plaintext key, feed defects, an accuracy drop, slippage, a cost overrun,
  a limit breach, an IFD signal whose recorded figures the DBN recording contradicts, a message
  throttle that never fired, an order traceable to no algorithm or trader, an algorithm missing
  from the inventory), which the report explains.

The generators live in ``examples/`` of the source checkout (they are demo data, not golive);
``seed`` needs only the reference workspace.
"""
from __future__ import annotations

import importlib
import shutil
import sys
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

PROFILES = ("seed", "healthy", "degraded")
# The demo's "now": the evening after the demo session of 2026-11-02 that the market data and the
# trading records describe. Fixed, so that a given seed builds the same workspace on any day.
DEMO_NOW = datetime(2026, 11, 3, 21, 0, tzinfo=timezone.utc)

DEGRADED_RECORDS = ("accuracy_drop", "high_slippage", "cost_overrun", "limit_breach")
DEGRADED_OPS = ("memory_leak", "disk_91", "outage_45min", "plaintext_key")
DEGRADED_REGULATORY = ("throttle_never_fired", "untraceable_order", "algorithm_not_in_inventory")


class DemoError(RuntimeError):
    """The demo workspace cannot be built (e.g. golive installed without its source checkout)."""


@dataclass
class DemoWorkspace:
    root: Path
    profile: str
    injected: dict[str, list[str]] = field(default_factory=dict)


def source_checkout() -> Path:
    """The folder holding engine/, examples/ and tests/ (an editable install's source tree)."""
    import golive

    return Path(golive.__file__).resolve().parent.parent


def reference_workspace() -> Path:
    path = source_checkout() / "tests" / "fixtures" / "reference-workspace"
    if not path.is_dir():
        raise DemoError("the demo workspace ships with golive's source checkout; "
                        "install golive from it (pip install -e .) to run the demo")
    return path


def _examples(module: str):
    root = source_checkout()
    if not (root / "examples" / f"{module}.py").is_file():
        raise DemoError(f"examples/{module}.py not found: the demo generators ship with golive's source checkout")
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    return importlib.import_module(f"examples.{module}")


def build(dest: Path, profile: str = "healthy", seed: int = 7) -> DemoWorkspace:
    """Write the demo workspace of ``profile`` into ``dest`` (which must not exist)."""
    if profile not in PROFILES:
        raise DemoError(f"unknown demo profile {profile!r}; choose one of {', '.join(PROFILES)}")
    shutil.copytree(reference_workspace(), dest)
    ws = DemoWorkspace(root=dest, profile=profile)
    if profile == "seed":
        return ws
    degraded = profile == "degraded"
    records = _examples("records_fixtures")
    regulatory = _examples("regulatory_fixtures")
    feed = _examples("feed_workspace")
    ifd = _examples("ifd_tape")
    ops = _examples("ops_fixtures")
    # order matters: the records say when the IFD signals fired; the feed recording of the
    # session holds the flow they fired on; their figures are then counted from that recording;
    # the ops generator builds the audit log from records/ and commits to git last.
    # The feed recording and the operations logs describe the same, latest full session.
    end = DEMO_NOW
    session_day = datetime.fromtimestamp(ops._session_start(end), timezone.utc).date()
    records.write_records(dest, inject=DEGRADED_RECORDS if degraded else (), seed=seed)
    # the inventory, cancels, control rejections and conformance tests the regulations ask for
    found = regulatory.write_regulatory(dest, inject=DEGRADED_REGULATORY if degraded else (), seed=seed)
    signals = dest / "records" / "signals.csv"
    # the first 105 minutes of the session: the recording covers the signals of its first three cycles
    market = feed.write_feed_workspace(dest, healthy=not degraded, seed=seed, day=session_day, minutes=105,
                                       flows=ifd.flows_for_signals(signals, session_day))
    recount = ifd.recount_signals(signals, market["records"], market["truth"].instruments, mismatch=degraded)
    _ifd_settings(dest / "golive.toml", ifd.IFD_WINDOW_S, ifd.IFD_BASELINE_WINDOWS)
    ops.write_ops(dest, inject=DEGRADED_OPS if degraded else (), seed=seed, end=end)
    if degraded:
        ws.injected = {"records": list(DEGRADED_RECORDS), "ops": list(DEGRADED_OPS), "feed": ["feed defects"],
                       "ifd_figures_not_from_the_tape": recount["mismatch"],
                       "regulatory": {fault: found[fault] for fault in DEGRADED_REGULATORY}}
    return ws


def _ifd_settings(golive_toml: Path, window_s: int, baseline_windows: int) -> None:
    """The IFD detection window golive recounts MBO volume over (PRE-ALGO-08/12), in [settings]
    (the ops generator adds its settings to the same table)."""
    text = golive_toml.read_text(encoding="utf-8")
    lines = f"ifd_window_s = {window_s}\nifd_baseline_windows = {baseline_windows}\n"
    if "\n[settings]\n" in f"\n{text}":  # keys right after the header belong to the existing table
        head, _, tail = f"\n{text}".partition("\n[settings]\n")
        text = f"{head}\n[settings]\n{lines}{tail}"[1:]
    else:
        text = text.rstrip("\n") + f"\n\n[settings]\n{lines}"
    golive_toml.write_text(text, encoding="utf-8")
