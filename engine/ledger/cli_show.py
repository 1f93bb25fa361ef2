"""What ``golive evidence show`` prints, as tables or (``--json``) one JSON document: the runs; one
run's results (recorded and effective status, whole reasons); one requirement across runs; or one
requirement in one run with its artifacts and the memos and attached files of its waiver and
attestations, each with its digest. Every value comes from the ledger and is printed as text
(no console markup is interpreted), so evidence cannot restyle or hide what is shown.
"""
from __future__ import annotations

import json
from typing import Any

from rich.table import Table
from rich.text import Text

from golive.ledger.cli import _fail_input, _guard, out
from golive.ledger.show import list_runs, requirement_history, run_results, run_targets
from golive.ledger.show_detail import requirement_in_run
from golive.ledger.store import Store
from golive.report.inputs import fmt_value


def _echo_json(value: Any) -> None:
    out.print(Text(json.dumps(value, indent=2, ensure_ascii=False)))


def _effective(row: dict[str, Any]) -> str:
    """``waived`` as the ledger view judges it; ``attested`` for a pass a signed attestation gave."""
    if row["effective"] == row["status"] and row["status"] == "pass" and row.get("checker") == "attestation":
        return "attested"
    return row["effective"]


def show_evidence(store: Store, what: str | None, requirement: str | None, as_json: bool) -> None:
    if not what:
        return _runs(store, as_json)
    if requirement:
        detail = _guard(lambda: requirement_in_run(store, what, requirement))
        if detail is None:
            _fail_input(f"no result for requirement {requirement!r} in run {what!r} in this store "
                        f"(`golive evidence show {what}` lists the run's requirements)")
        return _echo_json(detail) if as_json else print_detail(detail)
    found = _guard(lambda: run_results(store, what))
    if found is not None:
        run_id, rows = found
        for r in rows:
            r["effective"] = _effective(r)
        target = run_targets(store, [run_id]).get(run_id, {})
        if as_json:
            return _echo_json({"run_id": run_id, **target, "results": rows})
        table = Table(title=Text(f"run {run_id} on {target.get('target_label', '?')}"), caption=f"one requirement in full: golive evidence show {run_id[:8]} REQ")
        for title in ("seq", "requirement", "recorded", "effective", "reason", "artifacts"):
            table.add_column(title, overflow="fold")  # wrapped, never cut: the whole reason is shown
        for r in rows:
            table.add_row(str(r["seq"]), Text(r["requirement_id"]), Text(r["status"]), Text(r["effective"]),
                          Text(r["reason"]), str(r["artifacts"]))
        out.print(table)
        return None
    history = requirement_history(store, what)
    if not history:
        _fail_input(f"{what!r} is neither a run id (or unique prefix) nor a requirement id in this store")
    for r in history:
        r["effective"] = _effective(r)
    if as_json:
        return _echo_json({"requirement_id": what, "history": history})
    table = Table(title=f"requirement {what}")
    for title in ("seq", "run", "target", "time", "recorded", "effective", "metrics"):
        table.add_column(title, overflow="fold")
    for r in history:
        table.add_row(str(r["seq"]), r["run_id"][:8], Text(r["target_label"]), Text(r["time"][:19].replace("T", " ")), Text(r["status"]),
                      Text(r["effective"]), Text(r["metrics"]))
    out.print(table)
    return None


def _runs(store: Store, as_json: bool) -> None:
    runs = list_runs(store)
    if as_json:
        return _echo_json(runs)
    table = Table(title="runs", caption="run ids abbreviated: any unique prefix names a run")
    for title in ("run", "started (UTC)", "status", "plan", "target", "entries", "checkpoint"):
        table.add_column(title, no_wrap=title not in ("plan", "target"), overflow="fold",
                         min_width={"target": 24, "plan": 14}.get(title))
    for r in runs:
        table.add_row(r["id"][:8], r["started"][:16].replace("T", " "), r["status"], Text(r["plan"]),
                      Text(r["target_label"]), str(r["entries"]), r["checkpoint"])
    out.print(table)
    return None


def _size(value: Any) -> str:
    return f"{value:,} bytes" if isinstance(value, int) else "size unknown"


def _files(files: list[dict[str, Any]], what: str, indent: str = "") -> None:
    """One line per file, nothing cut: the whole sha256, the size and where the copy is kept."""
    if not files:
        line(f"{indent}{what}: none")
        return
    line(f"{indent}{what} ({len(files)}):")
    for f in files:
        kept = f"stored as objects/{f['stored'][:2]}/{f['stored'][2:]}" if f["stored"] else "digest only"
        kept += " (secrets masked in the copy)" if f["redacted"] else ""
        kept += f"; {f['note']}" if f["note"] else ""
        line(f"{indent}  {f['path']}  sha256 {f['sha256'] or '?'}  {_size(f['size'])}  {kept}")


def line(text: str) -> None:
    """Print evidence as plain text: brackets in it are never read as console markup."""
    out.print(Text(text))


def print_detail(d: dict[str, Any]) -> None:
    line(f"requirement {d['requirement_id']} in run {d['run_id']} (result entry {d['seq']})")
    if d.get("target_label"):
        line(f"  target: {d['target_label']}")
    line(f"  recorded status:  {d['status']}")
    line(f"  effective status: {d['effective']}")
    if d.get("checker"):
        line(f"  checker: {d['checker']}")
    line(f"  reason: {d['reason'] or '-'}")
    for t in d.get("thresholds") or ():
        line(f"  {threshold_text(t)}")
    for name, value in sorted((d.get("metrics") or {}).items()):
        line(f"  metric {name} = {fmt_value(value)}")
    _files(d["artifacts"], "artifacts")
    w = d.get("waiver")
    if w:
        from golive.report.waivers import approved_by
        line(f"waiver (entry {w['seq']}): approved by {approved_by(w.get('approver') or '?', w.get('co_approvers'))}, "
             f"expires {w.get('expires')}, "
             f"signed {w.get('time', '')[:19]} by key {w.get('key_id', '')[:16]}")
        _memo_and_files(w)
    for a in d["attestations"]:
        how = ("verified this run" if a.get("verified_this_run") else
               "supporting evidence" if a.get("supporting") else "not used by this run")
        revoked = f"; REVOKED by entry {a['revoked']['seq']}" if a.get("revoked") else ""
        line(f"attestation (entry {a['seq']}, {how}{revoked}): by {a.get('attested_by') or '?'}"
             f"{' (' + a['role'] + ')' if a.get('role') else ''}, signed {a.get('time', '')[:19]} by key "
             f"{a.get('key_id', '')[:16]}, expires {a.get('expires') or 'never'}")
        _memo_and_files(a)
    if not w and not d["attestations"]:
        line("waivers and attestations: none for this requirement in this run")


def threshold_text(t: dict[str, Any]) -> str:
    """``threshold disk_max < 80 %: observed 91.16 % (not met)``, as the reports put it."""
    unit = t.get("unit")
    met = {True: "met", False: "not met"}.get(t.get("passed"), "not judged")
    observed = fmt_value(t.get("observed"), unit) if t.get("observed") is not None else "not observed"
    loosened = ", loosened by the tailoring" if t.get("loosened") else ""
    return (f"threshold {t.get('metric', '?')} {t.get('op', '')} {fmt_value(t.get('value'), unit)}: "
            f"observed {observed} ({met}{loosened})")


def _memo_and_files(entry: dict[str, Any]) -> None:
    line(f"  memo: {entry.get('memo') or '-'}")
    if entry.get("note"):
        line(f"  note: {entry['note']}")
    _files(entry.get("files") or [], "attached files", "  ")
