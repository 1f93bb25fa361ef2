"""Commands for entries a person authors: ``golive evidence attest`` and ``golive evidence
waive``. Each entry is signed with the person's own key, loaded from their own key file with
their passphrase (golive.ledger.cli_people); the ledger key endorsed its public key when an
administrator registered it, so verify can tell who vouched for what. Each entry is bound to a target and the plan
(golive.ledger.scope says which runs apply it).
"""
from __future__ import annotations

import difflib
from datetime import date, timedelta
from pathlib import Path

import click

from golive.digest import file_sha256
from golive.ledger.cli import _fail_input, _guard, _open, evidence, out, store_options
from golive.ledger.cli_people import person_signer, signing_options
from golive.ledger.keyring import append_authored, recorded_keys
from golive.ledger.secrets import Redactor


def _person(store, who: str, ask: bool = False, key_file: Path | None = None, passphrase_env: str | None = None):
    """The signer of the person named by ``who`` (their name or a unique prefix of their key id),
    loaded from their own key file with their passphrase (``ask`` is kept for callers that had a
    --passphrase flag: the passphrase is now always required)."""
    return person_signer(store, who, key_file, passphrase_env)[0]


target_option = click.option(
    "-t", "--target", "target", required=True, metavar="DIR|system:ID",
    help="The trading workspace it is for (its golive.toml system_id, else its git root commit, else "
         "its path: golive.run.provenance.target_identity), or an identity as recorded, e.g. system:ES-desk. "
         "It never applies to another target's runs.")


def _bound(target: str, plan, req) -> dict:
    """The target, plan and requirement digest the entry signs (golive.ledger.scope)."""
    from golive.ledger.scope import binding, identity_of
    from golive.run.target import TargetError

    try:
        identity, path = identity_of(target)
    except TargetError as exc:
        _fail_input(f"--target {target}: {exc}")
    return binding(identity, path, plan, req)


plan_option = click.option("--plan", "plan_path", type=click.Path(path_type=Path), default=None, envvar="GOLIVE_PLAN",
                           help="plan.yaml or its folder the requirement belongs to (default: the packaged plan).")


def _requirement(plan_path: Path | None, requirement_id: str):
    """The plan and its requirement ``requirement_id``; exit 2 naming the closest ids otherwise."""
    from golive.plan import PlanError, load

    try:
        plan = load(plan_path)
    except PlanError as exc:
        _fail_input(f"cannot load the plan {plan_path or '(packaged)'}: {exc}")
    by_id = {r.id: r for r in plan.requirements}
    req = by_id.get(requirement_id) or by_id.get(requirement_id.upper())
    if req is None:
        close = difflib.get_close_matches(requirement_id.upper(), list(by_id), n=3, cutoff=0.5)
        hint = f"; did you mean {', '.join(close)}?" if close else "; `golive validate` lists the plan"
        _fail_input(f"{requirement_id} is not a requirement of plan {plan.id} v{plan.version}{hint}")
    return plan, req


def _attach(store, files: tuple[Path, ...], role: str = "attestation") -> list[dict]:
    redactor, blobs = Redactor(), []
    for path in files:
        copy, redacted = redactor.blob(path.read_bytes())
        blobs.append({"path": path.name, "sha256": file_sha256(path), "blob": store.put_blob(copy),
                      "size": len(copy), "redacted": redacted, "role": role})
    return blobs


@click.command()
@store_options
@click.argument("requirement_id")
@click.option("--by", "by", required=True, metavar="NAME|KEYID", help="The attesting person (name or key id prefix).")
@click.option("--role", default="", help="The person's role, e.g. 'Head of Trading Risk'.")
@click.option("--note", "--statement", "statement", required=True, help="What the person verified, in their words.")
@click.option("--expires", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Last day the attestation holds (YYYY-MM-DD); none: it does not expire.")
@click.option("--file", "files", multiple=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Evidence file to store with the attestation (repeatable; secrets masked).")
@click.option("--run", "run_id", default="-", metavar="RUN", help="Run the attestation belongs to.")
@target_option
@signing_options
@click.option("--supporting", is_flag=True,
              help="Record it as supporting evidence for a requirement that has a check (it never "
                   "verifies such a requirement; the check does).")
@plan_option
def attest(store_dir, db_url, requirement_id, by, role, statement, expires, files, run_id, target, key_file,
           passphrase_env, supporting, plan_path) -> None:
    """Record a signed attestation that a manual requirement was verified.

    Later runs of the --target workspace (never another target's) count a manual requirement as
    verified while the attestation has not expired and the requirement is unchanged. A
    requirement with a check is verified by its check: attesting one is refused unless
    --supporting says the attestation is supporting evidence only. Exit 2: unknown requirement,
    a non-manual requirement without --supporting, or an expiry in the past."""
    if expires is not None and expires.date() < date.today():
        _fail_input(f"--expires {expires.date()} is in the past")
    plan, req = _requirement(plan_path, requirement_id)
    requirement_id = req.id
    if not req.manual and not supporting:
        _fail_input(f"{req.id} is verified by its check ({req.check.plugin}.{req.check.name}), not by an "
                    "attestation: add --supporting to record this as supporting evidence, or waive it "
                    "with `golive waive`" if req.check else
                    f"{req.id} is not a manual requirement: add --supporting to record supporting evidence")
    if req.manual and supporting:
        _fail_input(f"{req.id} is a manual requirement: its attestation verifies it (drop --supporting)")
    bound = _bound(target, plan, req)
    store = _guard(lambda: _open(store_dir, db_url))
    person = _person(store, by, key_file=key_file, passphrase_env=passphrase_env)
    name = recorded_keys(store)[person.key_id].get("name", "")
    payload = {"requirement_id": requirement_id, "statement": statement, "status": "pass",
               "attested_by": name, "role": role, "expires": expires.date().isoformat() if expires else None,
               **bound}
    if supporting:
        payload["supporting"] = True
    blobs = _attach(store, files)
    if blobs:
        payload["blobs"] = blobs
    done = _guard(lambda: append_authored(store, "attestation", payload, person, run_id))
    kind = "supporting attestation" if supporting else "attestation"
    out.print(f"{kind} for {requirement_id} recorded as entry {done.seq}, signed by {person.key_id[:16]}..., "
              f"for target {bound['target']['identity']} and plan {plan.id} v{plan.version}", highlight=False)


@click.command()
@store_options
@click.argument("requirement_id")
@click.option("--approver", "--by", "by", required=True, metavar="NAME|KEYID",
              help="The approver (name or key id prefix of a person key).")
@click.option("--reason", "--justification", "justification", default=None,
              help="Why the requirement may be waived (required unless --second-to).")
@click.option("--expires", default=None, type=click.DateTime(formats=["%Y-%m-%d"]),
              help="Last day the waiver holds (YYYY-MM-DD; required unless --second-to).")
@click.option("--second-to", "second_to", type=int, default=None, metavar="SEQ",
              help="Co-approve the waiver recorded as entry SEQ (the shipped plan asks two people for a P1 waiver).")
@click.option("--file", "files", multiple=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="File to store with the waiver, e.g. the risk acceptance memo (repeatable; secrets masked).")
@target_option
@signing_options
@plan_option
def waive(store_dir, db_url, requirement_id, by, justification, expires, second_to, files, target, key_file,
          passphrase_env, plan_path) -> None:
    """Record a signed, expiring waiver for a requirement of the plan, for the --target workspace
    only (runs of another target never apply it), or co-approve one with --second-to SEQ.

    The plan's 'waivers' policy sets how long a waiver may run per priority, which registered
    roles may approve and how many distinct people must (default: 90/180/365 days for
    P1/P2/P3, anyone registered, one approver; docs/governance.md). A run applies a waiver only
    once enough distinct people approved it. Exit 2: unknown requirement, an expiry in the past or beyond the limit, an
    approver whose role the policy does not allow, a co-approval by the same person."""
    from golive.ledger.waiver_policy import WaiverPolicy

    plan, req = _requirement(plan_path, requirement_id)
    requirement_id, policy = req.id, WaiverPolicy.of(plan)
    if second_to is None:
        if not justification or expires is None:
            _fail_input("--reason and --expires are required (unless --second-to SEQ co-approves a recorded waiver)")
        _check_expiry(expires.date(), req.priority, policy)
    bound = _bound(target, plan, req)
    store = _guard(lambda: _open(store_dir, db_url))
    person = _person(store, by, key_file=key_file, passphrase_env=passphrase_env)
    info = recorded_keys(store)[person.key_id]
    name = info.get("name", "")
    if (why := policy.refusal(name, str(info.get("person_role", "")))) is not None:
        _fail_input(why)
    if second_to is not None:
        payload = _co_approval(store, second_to, requirement_id, bound, person.key_id, name, justification, expires)
    else:
        payload = {"requirement_id": requirement_id, "justification": justification,
                   "expires": expires.date().isoformat(), "approver": name, **bound}
    blobs = _attach(store, files, role="waiver")
    if blobs:
        payload["blobs"] = blobs
    done = _guard(lambda: append_authored(store, "waiver", payload, person))
    first = second_to if second_to is not None else done.seq
    what = (f"co-approval of waiver entry {second_to}" if second_to is not None else "waiver")
    out.print(f"{what} for {requirement_id} until {payload['expires']} recorded as entry {done.seq}, for target "
              f"{bound['target']['identity']} and plan {plan.id} v{plan.version}", highlight=False)
    need = policy.needed(req.priority)
    if need > 1:
        out.print(f"a {req.priority} waiver needs {need} distinct approvers ({', '.join(policy.approver_roles) or 'any role'}); "
                  f"runs apply it once they have signed; another person co-approves with: golive waive {requirement_id} "
                  f"--target {target} --approver NAME --second-to {first}", highlight=False)


def _check_expiry(day: date, priority: str, policy) -> None:  # noqa: ANN001 -- a WaiverPolicy
    if day < date.today():
        _fail_input(f"--expires {day} is in the past")
    limit = policy.limit(priority)
    if day > date.today() + timedelta(days=limit):
        _fail_input(f"--expires {day}: a waiver of a {priority} requirement runs at most {limit} days under the "
                    f"plan's waiver policy (until {date.today() + timedelta(days=limit)}); renew it when it expires")


def _co_approval(store, seq: int, requirement_id: str, bound: dict, key_id: str, name: str,  # noqa: ANN001
                 justification: str | None, expires) -> dict:  # noqa: ANN001
    """The payload co-approving waiver entry ``seq``: its requirement, reason, expiry and binding,
    with ``second_to``; exit 2 when it is no first approval of this requirement and target, or
    when this person approved it already."""
    from golive.ledger.show import IN_FORCE_NOW, authored_entries

    waivers = authored_entries(store, "waiver", in_force_at=IN_FORCE_NOW)
    first = next((w for w in waivers if w["seq"] == seq and w.get("second_to") is None), None)
    if first is None:
        _fail_input(f"--second-to {seq}: entry {seq} is no waiver in force (first approval) in this store; "
                    "`golive evidence trail` lists them")
    if first.get("requirement_id") != requirement_id:
        _fail_input(f"--second-to {seq}: that waiver is for {first.get('requirement_id')}, not {requirement_id}")
    theirs = (first.get("target") or {}).get("identity")
    if theirs != bound["target"]["identity"]:
        _fail_input(f"--second-to {seq}: that waiver is for target {theirs}, not {bound['target']['identity']}")
    if justification and justification != first.get("justification"):
        _fail_input(f"--second-to {seq}: --reason differs from the waiver's; co-approve it as written or record a new waiver")
    if expires is not None and expires.date().isoformat() != first.get("expires"):
        _fail_input(f"--second-to {seq}: --expires {expires.date()} differs from the waiver's {first.get('expires')}")
    for w in [first, *(w for w in waivers if w.get("second_to") == seq)]:
        if w.get("author_key_id") == key_id or str(w.get("approver", "")).casefold() == name.casefold():
            _fail_input(f"{name} already approved waiver entry {seq} (entry {w['seq']}); a co-approval must come "
                        "from another person")
    return {"requirement_id": requirement_id, "justification": first.get("justification"),
            "expires": first.get("expires"), "approver": name, "second_to": seq,
            **{k: first[k] for k in ("target", "plan", "requirement_digest") if k in first}}


evidence.add_command(attest)
evidence.add_command(waive)
