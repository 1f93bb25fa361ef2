"""``golive signoff RUN --decision go|no-go --note ... --by NAME``, ``golive signoff status RUN``
and ``golive signoff export RUN``: the go-live sign-off of a recorded run (golive.ledger.signoff).

Exit codes: 0 ok; 1 ``status`` when the run is not signed off, a required role signed NO-GO, or
a signature fails; 2 bad
input, an unknown or unusable person key, or a sign-off refused for separation of duties.
"""
from __future__ import annotations

import json
from pathlib import Path

import click
from rich.table import Table
from rich.text import Text

from golive.ledger.cli import _fail_input, _guard, _open, out, store_options
from golive.ledger.cli_people import person_signer, signing_options
from golive.ledger.signoff import DECISIONS, conflicts, evaluate, export_statements, run_facts, sign, signatures


class _RunFirstGroup(click.Group):
    """``golive signoff RUN ...`` signs; ``golive signoff status|export RUN`` are subcommands."""

    def resolve_command(self, ctx, args):  # noqa: ANN001,ANN201 -- click's signature
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            return "sign", self.commands["sign"], args
        return super().resolve_command(ctx, args)


@click.group(cls=_RunFirstGroup)
def signoff() -> None:
    """Sign off a recorded run (go / no-go), show who signed and what is missing, export the
    signed statements.

    \b
      golive signoff RUN --decision go --note "..." --by "Ada Risk"
      golive signoff status RUN
      golive signoff export RUN -o signoff.json
    """


@signoff.command("sign")
@store_options
@click.argument("run")
@click.option("--decision", type=click.Choice(DECISIONS), required=True, help="go or no-go.")
@click.option("--note", required=True, help="The decision's grounds, in the signer's words (signed).")
@click.option("--by", "by", required=True, metavar="NAME|KEYID", help="The signing person (registered name or key id prefix).")
@signing_options
def sign_cmd(store_dir, db_url, run, decision, note, by, key_file, passphrase_env) -> None:
    """Sign the go-live decision for RUN (bound to its run id, plan digest, target and results);
    `golive signoff RUN ...` is the same. Refused (exit 2) for the person who ran the checks or
    approved a waiver in the run until an independent approver has signed go."""
    store = _guard(lambda: _open(store_dir, db_url))
    facts = _guard(lambda: run_facts(store, run))
    person, info = person_signer(store, by, key_file, passphrase_env)
    why = conflicts(facts, info)
    if decision == "go" and why:
        independent = [s for s in signatures(store, facts)
                       if s.verified and s.decision == "go" and not s.conflicted and s.key_id != person.key_id]
        if not independent:
            _fail_input(f"{info.get('name')} {' and '.join(why)}: separation of duties needs an independent "
                        "approver to sign go first; this person cannot be the only approver")
    done = _guard(lambda: sign(store, facts, person, decision, note))
    out.print(f"sign-off {decision.upper()} for run {facts.run_id} by {info.get('name')} "
              f"({info.get('person_role', '')}) recorded as entry {done.seq}", markup=False)
    verdict = (facts.doc.get("summary") or {}).get("verdict") or {}
    if decision == "go" and verdict.get("state") not in (None, "READY"):
        # recorded as signed (the decision is the person's), but never silently over a gap
        blocking = len(verdict.get("blocking") or []) + len(verdict.get("pending") or [])
        out.print(f"note: the run's verdict is {verdict['state']} ({blocking} requirement(s) blocking or pending, "
                  f"`golive signoff status {facts.run_id[:8]}`); this GO does not change it", markup=False)
    _print_state(evaluate(facts.policy, signatures(store, facts)), facts)


def _print_state(state: dict, facts) -> None:  # noqa: ANN001
    # names, roles and reasons are people's and targets' words: printed as text, never as markup
    if state["required"] is None:
        out.print("the plan asks for no sign-off (no 'signoff' policy): sign-offs are recorded for the record "
                  "and do not change the verdict", markup=False)
        if state["no_go"]:
            out.print("NO-GO on record: " + "; ".join(state["no_go"]), markup=False)
    elif state["no_go"]:
        out.print("NO-GO: " + "; ".join(state["no_go"]), markup=False)
    elif state["satisfied"]:
        out.print("signed off: the sign-off policy of the plan is met")
    else:
        out.print(state["reason"], markup=False)


@signoff.command("status")
@store_options
@click.argument("run")
@click.option("--json", "as_json", is_flag=True, help="Print the sign-off state as JSON.")
def status_cmd(store_dir, db_url, run, as_json) -> None:
    """Who signed RUN off (name, role, decision, time, signature verified) and what is missing;
    the verdict with the sign-off taken into account. Exit 1 unless signed off."""
    from golive.run.readiness import refresh_summary

    store = _guard(lambda: _open(store_dir, db_url))
    facts = _guard(lambda: run_facts(store, run))
    state = evaluate(facts.policy, signatures(store, facts))
    doc = {**facts.doc, "signoff": state}
    verdict = refresh_summary(json.loads(json.dumps(doc)))
    if as_json:
        click.echo(json.dumps({"run_id": facts.run_id, "policy": facts.policy, **state,
                               "verdict": verdict["state"], "reasons": verdict["reasons"]}, indent=2))
    else:
        table = Table(title=f"sign-offs of run {facts.run_id}")
        for column in ("entry", "name", "role", "decision", "time", "signature verified", "independent"):
            table.add_column(column)
        for s in state["signatures"]:
            table.add_row(*(Text(str(cell)) for cell in (
                s["seq"], s["name"], s["role"], s["decision"].upper(), s["time"][:19],
                "yes" if s["verified"] else f"NO: {s['problem']}",
                "no: " + "; ".join(s["conflicted"]) if s["conflicted"] else "yes")))
        out.print(table)
        _print_state(state, facts)
        out.print(f"verdict: {verdict['state']}")
        for reason in verdict["reasons"]:
            out.print(f"  - {reason}", markup=False)
    bad = any(not s["verified"] for s in state["signatures"])
    raise SystemExit(0 if (state["satisfied"] or state["required"] is None) and not bad and not state["no_go"] else 1)


@signoff.command("export")
@store_options
@click.argument("run")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="File to write (default: stdout).")
def export_cmd(store_dir, db_url, run, output) -> None:
    """Write RUN's signed sign-off statements with the signers' public keys (JSON), to verify
    offline with any Ed25519 implementation (docs/governance.md)."""
    store = _guard(lambda: _open(store_dir, db_url))
    data = _guard(lambda: export_statements(store, run))
    text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        _fail_input(f"cannot write {output}: {exc.strerror or exc}")
    out.print(f"{len(data['statements'])} signed statement(s) of run {data['run_id']} written to {output}")
