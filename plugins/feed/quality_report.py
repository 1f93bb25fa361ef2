"""How the ``feed`` data checks report their files: per-file rows, the dataset findings
(copies counted once, overlaps), and the notes on files that were not judged (another schema,
not selected, no records, unreadable)."""
from __future__ import annotations

from pathlib import Path


def used(results: list[dict]) -> list[dict]:
    return [r for r in results if "error" not in r and "not_used" not in r]


def is_mbo(r: dict) -> bool:
    """An MBO result (:func:`.dbn_quality.check_file`), not one of another schema."""
    return "latency_hist" in r


def file_details(results: list[dict], root: Path) -> list[dict]:
    rows = []
    for r in results:
        name = rel(r["file"], root)
        if "error" in r:
            rows.append({"file": name, "error": r["error"]})
            continue
        if "not_used" in r:
            rows.append({"file": name, "schema": r.get("schema", ""), "not_used": r["not_used"]})
            continue
        row = {"file": name, "dataset": r.get("dataset", ""), "schema": r.get("schema", ""),
               "metrics": dict(r["metrics"]), "violations": r["violations"],
               "limits_hit": r.get("limits_hit", []), "not_judged": r.get("not_judged", {})}
        for k in ("by_instrument", "sequence_judgement", "checks_applied"):
            if k in r:
                row[k] = r[k]
        if "overlaps" in r:
            row["overlaps"] = [rel(p, root) for p in r["overlaps"]]
        rows.append(row)
    for f in getattr(results, "findings", []):
        if f["kind"] == "same_coverage":
            rows.append({"file": rel(f["files"][1], root), "same_as": rel(f["counted"], root)})
    for n in getattr(results, "not_selected", []):
        rows.append({**n, "file": rel(n["file"], root)})
    return rows


def dataset_findings(results: list[dict], root: Path) -> list[dict]:
    return [{**f, "files": [rel(p, root) for p in f["files"]],
             **({"counted": rel(f["counted"], root)} if "counted" in f else {})}
            for f in getattr(results, "findings", [])]


def rel(path: str, root: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(root.resolve()))
    except ValueError:
        return path


def unreadable_message(results: list[dict], root: Path) -> str:
    bad = [r for r in results if "error" in r]
    return "; ".join(f"{rel(r['file'], root)}: {r['error']}" for r in bad)


def usage_notes(results: list[dict], root: Path) -> str:
    """Files counted once, overlapping, of another schema (not used or not selected) and MBO
    files without records (never a pass)."""
    parts = [f["message"] for f in getattr(results, "findings", [])]
    other = [f"{rel(r['file'], root)} ({r.get('schema') or r['not_used']})"
             for r in results if "not_used" in r]
    if other:
        parts.append(f"not used, not MBO: {', '.join(other)}")
    checked = [f"{rel(r['file'], root)} ({r.get('schema')})" for r in used(results) if not is_mbo(r)]
    if checked:
        parts.append(f"checked by the rules of their schema: {', '.join(checked)}")
    skipped = [f"{rel(n['file'], root)} ({n['schema']})" for n in getattr(results, "not_selected", [])]
    if skipped:
        parts.append(f"not selected (schemas): {', '.join(skipped)}")
    empty = [rel(r["file"], root) for r in used(results) if is_mbo(r) and not r["metrics"]["mbo_records"]]
    if empty:
        parts.append(f"0 MBO records in {', '.join(empty)}")
    empty = [rel(r["file"], root) for r in used(results) if not is_mbo(r) and not r["metrics"].get("records")]
    if empty:
        parts.append(f"0 records in {', '.join(empty)}")
    return "; ".join(parts)
