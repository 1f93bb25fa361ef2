"""The demo's go-live sign-off (issue 16, "Done when"): three demo approvers sign each demo run
off with their own keys, so the PDF's sign-off page shows real, verified signatures.

- The policy is the demo's, not the plan's (the packaged plan names no approvers: each firm
  names its own): ``signoff.tailoring.yaml`` beside the evidence store requires head of
  trading, risk and compliance; the run records it with the tailoring's digest.
- The demo people's keys are made like anyone's (golive.ledger.people): passphrase-protected
  Ed25519 keys in ``<demo>/people/``, next to the evidence store and never inside it; the store
  registers only their public keys, endorsed by its ledger key. The passphrase
  :data:`DEMO_PASSPHRASE` is printed: these keys are for the demo only.
- Each approver signs the decision the evidence supports: NO-GO naming the requirements that
  block go-live (the degraded demo), else GO with what is still open named in the note (the
  healthy demo stays INCOMPLETE until its open items hold: a sign-off never makes up for them).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEMO_PASSPHRASE = "golive-demo-only"
#: (name, role slug) of the demo firm's approvers
APPROVERS = (("Hana Ito", "head-of-trading"), ("Ravi Shah", "risk"), ("Clara Berg", "compliance"))
TAILORING = """\
# The demo firm's go-live approvers (RTS 6 Art. 5): golive demo writes this file and runs with it.
tailoring:
  id: demo-signoff
  title: Demo firm's go-live sign-off
signoff:
  roles: [head-of-trading, risk, compliance]
  reason: the demo firm's designated approvers must all sign a go-live off
overrides: []
"""
NAMED_IN_NOTE = 6  # blocking requirements named in a NO-GO note, then "and N more"


@dataclass(frozen=True)
class DemoPerson:
    name: str
    role: str
    key_file: Path
    public_file: Path


def write_tailoring(folder: Path) -> Path:
    path = folder / "signoff.tailoring.yaml"
    path.write_text(TAILORING, encoding="utf-8")
    return path


def demo_people(folder: Path) -> list[DemoPerson]:
    """The approvers' keys in ``folder`` (created on first use, shared by the demo's profiles)."""
    from golive.ledger.people import create_person_key, slug

    people = []
    for name, role in APPROVERS:
        found = sorted(folder.glob(f"{slug(name)}-*.pub")) if folder.is_dir() else []
        if found:
            public = found[0]
        else:
            _, _, public = create_person_key(folder, name, DEMO_PASSPHRASE)
        people.append(DemoPerson(name, role, public.with_suffix(".key"), public))
    return people


def decision(doc: dict[str, Any]) -> tuple[str, str]:
    """(go | no-go, note) that the run's own verdict (before any sign-off) supports."""
    verdict = doc["summary"]["verdict"]
    blocking = verdict.get("blocking") or []
    if blocking:
        named = [r.split(":", 1)[0] for r in verdict["reasons"] if r.split(" ", 1)[0] in blocking]
        named.sort(key=lambda r: (not r.endswith((" fails", " errors")), "(P1)" not in r))  # failures first
        more = len(named) - NAMED_IN_NOTE
        return "no-go", (f"demo sign-off: NO-GO, {len(blocking)} requirement(s) block go-live: "
                         f"{'; '.join(named[:NAMED_IN_NOTE])}" + (f"; and {more} more" if more > 0 else ""))
    pending = verdict.get("pending") or []
    still = f"; still open, so not READY yet: {', '.join(pending)}" if pending else ""
    return "go", f"demo sign-off: GO on the evidence of this run{still}"


def sign_off(recorder: Any, doc: dict[str, Any], people_dir: Path) -> dict[str, Any]:
    """Register the demo approvers in the run's store, have each sign ``doc``'s run, and put the
    verified sign-off state and the verdict with it into ``doc``; returns the state."""
    from golive.ledger.keyring import recorded_keys
    from golive.ledger.keys import key_id_of
    from golive.ledger.people import load_person_public, register_person, signing_person
    from golive.ledger.signoff import evaluate, run_facts, sign, signatures
    from golive.run.readiness import refresh_summary

    store = recorder.store
    chosen, note = decision(doc)
    known = recorded_keys(store)
    facts = run_facts(store, str(doc["run"]["id"]))
    for person in demo_people(people_dir):
        public = load_person_public(person.public_file)
        if key_id_of(public) not in known:
            register_person(store, public, person.name, person.role, None, recorder.signer)
        signer, _ = signing_person(store, person.name, person.key_file, DEMO_PASSPHRASE)
        sign(store, facts, signer, chosen, note)
    state = evaluate(facts.policy, signatures(store, facts))
    doc["signoff"] = state
    refresh_summary(doc)
    return state
