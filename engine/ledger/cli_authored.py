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


#: the longest a waiver may run when the plan sets no policy: a waiver is a dated exception, not
#: a permanent exemption (2099-01-01 was accepted before)
MAX_WAIVER_DAYS = {"P1": 90, "P2": 180, "P3": 365}

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


def _attach(store, files: tuple[Path, ...]) -> list[dict]:
    redactor, blobs = Redactor(), []
    for path in files:
        copy, redacted = redactor.blob(path.read_bytes())
        blobs.append({"path": path.name, "sha256": file_sha256(path), "blob": store.put_blob(copy),
                      "size": len(copy), "redacted": redacted, "role": "attestation"})
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
@click.option("--reason", "--justification", "justification", required=True, help="Why the requirement may be waived.")
@click.option("--expires", required=True, type=click.DateTime(formats=["%Y-%m-%d"]),
              help="Last day the waiver holds (YYYY-MM-DD).")
@target_option
@signing_options
@plan_option
def waive(store_dir, db_url, requirement_id, by, justification, expires, target, key_file, passphrase_env,
          plan_path) -> None:
    """Record a signed, expiring waiver for a requirement of the plan, for the --target workspace
    only (runs of another target never apply it).

    A waiver runs at most 90 days for a P1 requirement, 180 for P2, 365 for P3. Exit 2: unknown
    requirement, an expiry in the past or beyond that limit."""
    if expires.date() < date.today():
        _fail_input(f"--expires {expires.date()} is in the past")
    plan, req = _requirement(plan_path, requirement_id)
    requirement_id = req.id
    limit = MAX_WAIVER_DAYS.get(req.priority, min(MAX_WAIVER_DAYS.values()))
    if expires.date() > date.today() + timedelta(days=limit):
        _fail_input(f"--expires {expires.date()}: a waiver of a {req.priority} requirement runs at most {limit} "
                    f"days (until {date.today() + timedelta(days=limit)}); renew it when it expires")
    bound = _bound(target, plan, req)
    store = _guard(lambda: _open(store_dir, db_url))
    person = _person(store, by, key_file=key_file, passphrase_env=passphrase_env)
    name = recorded_keys(store)[person.key_id].get("name", "")
    payload = {"requirement_id": requirement_id, "justification": justification,
               "expires": expires.date().isoformat(), "approver": name, **bound}
    done = _guard(lambda: append_authored(store, "waiver", payload, person))
    out.print(f"waiver for {requirement_id} until {payload['expires']} recorded as entry {done.seq}, for target "
              f"{bound['target']['identity']} and plan {plan.id} v{plan.version}", highlight=False)


evidence.add_command(attest)
evidence.add_command(waive)
