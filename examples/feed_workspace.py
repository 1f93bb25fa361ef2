"""The feed part of a demo trading workspace: recorded MBO data and the feed client's logs.

``write_feed_workspace(root, healthy=True)`` writes, under ``root``:

* ``data/glbx-mbo-<day>.dbn.zst`` — simulated MBO for ES/NQ/CL over the first ``minutes`` of
  the US cash session (unhealthy: with the defects of :mod:`examples.dbn_fixtures` injected,
  and a 45 s silence), with the institutional ``flows`` planted (:class:`examples.dbn_fixtures.Flow`,
  see :mod:`examples.ifd_tape`);
* ``logs/feed_events.jsonl`` — connect, subscription, first record, one reset with reconnect and
  backfill (unhealthy: the backfill stops short of the outage, and a later disconnect never
  recovers);
* ``logs/cache_stats.jsonl`` and ``logs/api_usage.jsonl`` — cache requests and API spend for the
  month so far (unhealthy: one day above $8).

Returns the truth of the DBN file, its records as written (``records``) and the paths written. Contracts: ``docs/feed-artifacts.md``.
"""
from __future__ import annotations

import json
import random
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import numpy as np


try:
    from .dbn_fixtures import DEFECT_KINDS, Flow, simulate, write_records
except ImportError:  # imported as a top-level module (examples/ on sys.path)
    from dbn_fixtures import DEFECT_KINDS, Flow, simulate, write_records


SILENCE_NS = 45_000_000_000  # the unhealthy feed's silence


def _iso(t: datetime) -> str:
    return t.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def _jsonl(path: Path, rows: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _quiet_point(flows, start_ns: int, end_ns: int) -> int:
    """Where the 45 s silence starts: in the gap between flows nearest the recording's middle,
    so that no flow is cut in two (its signal's figures are counted from the whole flow)."""
    edges = sorted((f.start_ns, f.end_ns) for f in flows)
    gaps = [(a, b) for a, b in zip([start_ns] + [e for _, e in edges], [s for s, _ in edges] + [end_ns])
            if b - a > 3 * SILENCE_NS]
    middle = (start_ns + end_ns) // 2
    a, b = min(gaps, key=lambda g: abs((g[0] + g[1]) // 2 - middle)) if gaps else (start_ns, end_ns)
    return (a + b) // 2 - SILENCE_NS // 2


def write_feed_workspace(root: str | Path, healthy: bool = True, day: date = date(2026, 11, 2),
                         seed: int = 0, n_records: int = 60_000, minutes: float = 20.0,
                         flows: tuple[Flow, ...] | list[Flow] = ()) -> dict:
    root = Path(root)
    rng = random.Random(seed)
    open_utc = datetime(day.year, day.month, day.day, 14, 30, tzinfo=timezone.utc)  # 09:30 EST
    start_ns = int(open_utc.timestamp() * 1e9) + 5_000_000_000
    defects = () if healthy else DEFECT_KINDS
    # mean packet spacing chosen so the records cover about `minutes` of the session
    mean_gap = minutes * 60e9 / (n_records / 1.3)
    quiet_at = None if healthy or not flows else _quiet_point(flows, start_ns, start_ns + int(minutes * 60e9))
    if quiet_at is not None:  # flows after the silence are simulated 45 s early: the shift puts them back
        flows = [replace(f, start_ns=f.start_ns - SILENCE_NS, end_ns=f.end_ns - SILENCE_NS)
                 if f.start_ns >= quiet_at else f for f in flows]
    recs, truth = simulate(("ESZ6", "NQZ6", "CLF7"), n_records, seed, defects, start_ns=start_ns,
                           packet_gap_ns=(int(mean_gap * 0.1), int(mean_gap * 1.9)), flows=flows)
    if not healthy:  # the feed goes quiet for 45 s in the middle of the session
        half = len(recs) // 2 if quiet_at is None else int(np.argmax(recs["ts_event"] >= quiet_at))
        recs["ts_event"][half:] += SILENCE_NS
        recs["ts_recv"][half:] += SILENCE_NS
    data = write_records(root / "data" / f"glbx-mbo-{day.isoformat()}.dbn.zst", recs, truth.instruments)
    truth.path = data

    t0 = open_utc - timedelta(seconds=2)
    reset = open_utc + timedelta(seconds=3)
    back = reset + timedelta(seconds=1.8)
    events = [
        {"ts": _iso(t0), "event": "connect", "dataset": "GLBX.MDP3", "source": "databento"},
        {"ts": _iso(t0 + timedelta(milliseconds=180)), "event": "subscribed", "schema": "mbo"},
        {"ts": _iso(t0 + timedelta(milliseconds=420)), "event": "first_record"},
        {"ts": _iso(reset), "event": "disconnect", "reason": "connection reset by peer"},
        {"ts": _iso(back), "event": "reconnect", "gap_start": _iso(reset - timedelta(milliseconds=40)),
         "gap_end": _iso(back)},
        {"ts": _iso(back + timedelta(seconds=2)), "event": "backfill",
         "gap_start": _iso(reset - timedelta(seconds=1)),
         "gap_end": _iso(back + timedelta(milliseconds=500) if healthy else reset + timedelta(seconds=1)),
         "records": 4210, "duplicates": 0, "missing_sequences": 0},
    ]
    if not healthy:
        events.append({"ts": _iso(open_utc + timedelta(hours=5)), "event": "disconnect",
                       "reason": "heartbeat timeout"})
    events_path = _jsonl(root / "logs" / "feed_events.jsonl", events)

    cache, usage = [], []
    # the three weeks up to the session day: nothing is dated after the recording (a run would
    # rightly refuse evidence from its own future)
    for d in range(-20, 1):
        when = datetime(day.year, day.month, day.day, 13, 0, tzinfo=timezone.utc) + timedelta(days=d)
        if when.weekday() >= 5:
            continue
        for k in range(6):
            hit = rng.random() < 0.7
            size = rng.randint(2, 40) * 1_000_000
            cost = round(size / 1e9 * 2.0, 4)  # ~$2 per GB of MBO
            cache.append({"ts": _iso(when + timedelta(minutes=k)), "hit": hit, "bytes": size,
                          "cost_usd": cost, "dataset": "GLBX.MDP3", "schema": "mbo"})
            if not hit:
                usage.append({"ts": _iso(when + timedelta(minutes=k)), "endpoint": "timeseries.get_range",
                              "dataset": "GLBX.MDP3", "schema": "mbo", "bytes": size, "cost_usd": cost})
    if not healthy:
        usage.append({"ts": _iso(open_utc + timedelta(hours=1)), "endpoint": "batch.submit_job",
                      "dataset": "GLBX.MDP3", "schema": "mbo", "cost_usd": 9.5})
    return {"truth": truth, "data": data, "records": recs, "feed_events": events_path,
            "cache_stats": _jsonl(root / "logs" / "cache_stats.jsonl", cache),
            "api_usage": _jsonl(root / "logs" / "api_usage.jsonl", usage)}
