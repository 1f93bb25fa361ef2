"""A real evidence store for the dashboard tests, built by running golive.

Runs, in one store:
1. the degraded demo workspace (``LIVE-LIMITED-06`` and ``RISK-06`` only, at the demo's clock): thresholds with
   observed values (daily cost $15.80 against $8, disk 91 % against 80 %) and artifacts;
2-4. a copy of the reference workspace with a linked test whose file name is an XSS payload
   (``tests/config/test_<img src=x onerror=alert(1)>.py``): it passes, then fails, then passes
   again, so ``PRE-PIPE-01`` flip-flops and its reason, test name and artifact name carry the payload.
A waiver for LIVE-SHADOW-01 is recorded between runs 2 and 3.
"""
from __future__ import annotations

import re
import shutil
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from click.testing import CliRunner

from golive.cli import cli
from people import co_approve, enrol

REFERENCE = Path(__file__).parent / "fixtures" / "reference-workspace"
PAYLOAD = "<img src=x onerror=alert(1)>"
PAYLOAD_TEST = f"tests/config/test_{PAYLOAD}.py"
PASSWORDS = {"ada": "admin password 1", "aud": "auditor password 1", "vic": "viewer password 1"}
ROLES = {"ada": "admin", "aud": "auditor", "vic": "viewer"}
JUNIT = """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" errors="0" failures="{failures}" skipped="0" tests="1" time="0.1"
 timestamp="2025-06-12T10:00:00"><testcase classname="tests.config.test_&lt;img src=x onerror=alert(1)&gt;"
 name="test_payload" time="0.01">{failure}</testcase></testsuite></testsuites>
"""


@dataclass
class ServeStore:
    path: Path
    demo_run: str = ""
    runs: list[str] = field(default_factory=list)  # the reference-workspace runs, oldest first
    demo_workspace: Path | None = None


def invoke(*args, input=None):
    res = CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)
    return res


def _payload_workspace(root: Path) -> Path:
    ws = root / "xss-workspace"
    shutil.copytree(REFERENCE, ws)
    (ws / PAYLOAD_TEST).write_text("def test_payload():\n    assert True\n", encoding="utf-8")
    links = ws / "golive-links.yaml"
    text = links.read_text(encoding="utf-8")
    entry = (f'  - test: "{PAYLOAD_TEST}"\n    confirmed_by: golive maintainers\n'
             f"    confirmed_at: '2026-12-02'\n")
    links.write_text(text.replace("links:\n  PRE-PIPE-01:\n", "links:\n  PRE-PIPE-01:\n" + entry, 1), encoding="utf-8")
    return ws


def _junit(ws: Path, failing: bool) -> None:
    failure = '<failure message="boom">assert False</failure>' if failing else ""
    (ws / "test-results" / "junit" / "test_payload_20250612.xml").write_text(
        JUNIT.format(failures=int(failing), failure=failure), encoding="utf-8")


def build(root: Path, demo: bool = True, db_url: str | None = None) -> ServeStore:
    from golive import demo as demo_ws
    from golive.cli_run import execute_run

    built = ServeStore(path=root / "store")
    db = ("--db", db_url) if db_url else ()
    if demo:
        workspace = root / "demo-workspace"
        demo_ws.build(workspace, "degraded", 7)
        doc, _ = execute_run(workspace, None, ("LIVE-LIMITED-06", "RISK-06"), 1, None, None, 300.0, quiet=True,
                             store_dir=built.path, db_url=db_url, clock=lambda: demo_ws.DEMO_NOW)
        built.demo_run, built.demo_workspace = doc["run"]["id"], workspace
    ws = _payload_workspace(root)
    for number, failing in enumerate((False, True, False)):
        _junit(ws, failing)
        res = invoke("run", "--target", str(ws), "--store", str(built.path), *db, "-q",
                     "--json", str(root / f"run{number}.json"))
        assert res.exit_code in (0, 1), res.output
        built.runs.append(re.search(r'"id": "([0-9a-f-]{36})"', (root / f"run{number}.json").read_text()).group(1))
        if number == 1:
            enrol(invoke, "Ada Risk", "--store", str(built.path), *db)
            soon = (date.today() + timedelta(days=30)).isoformat()
            res = invoke("waive", "LIVE-SHADOW-01", "--approver", "Ada Risk", "--reason",
                         f"shadow week scheduled {PAYLOAD}", "--expires", soon, "--store", str(built.path), *db,
                         "--target", str(ws))
            assert res.exit_code == 0, res.output
            co_approve(invoke, res.output, "LIVE-SHADOW-01", "--store", str(built.path), *db, "--target", str(ws))  # P1: a second person
    for name, password in PASSWORDS.items():
        res = invoke("users", "add", name, "--role", ROLES[name], "--store", str(built.path), *db,
                     input=f"{password}\n{password}\n")
        assert res.exit_code == 0, res.output
    return built


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def login(client, name: str, password: str | None = None, follow: bool = False):
    token = csrf_of(client.get("/login").text)
    return client.post("/login", data={"name": name, "password": password or PASSWORDS[name], "csrf": token,
                                       "next": "/runs"}, follow_redirects=follow)


def recorded_store(folder: Path, runs: list[tuple[list, str, str | None]]):
    """A store holding ``runs`` recorded through the real recorder, each ``(outcomes, target,
    plan digest or None[, --only selection])``, and the viewer ``vic``; returns (store, run ids)."""
    from datetime import datetime, timezone

    from golive.ledger import LedgerRecorder, Signer, Store, record_key
    from golive.ledger.simulate import run_header
    from golive.serve import auth

    store = Store(folder)
    signer = Signer.generate()
    record_key(store, signer)
    recorder = LedgerRecorder(store, signer, copy_artifacts=False)
    ids = []
    for outcomes, target, digest, *selection in runs:
        run = run_header(target)
        if digest:
            run["plan"] = {**run["plan"], "digest": digest}
        if selection:  # an --only slice
            run["selection"] = list(selection[0])
        recorder.golive_run_started(run=run)
        recorder.record_results(outcomes, run)
        run["finished"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
        recorder.golive_run_finished(run=run, outcomes=outcomes)
        ids.append(run["id"])
    auth.add_user(store, "vic", "viewer", PASSWORDS["vic"])
    return store, ids


@contextmanager
def recorded(folder: Path, runs: list[tuple[list, str, str | None]]):
    """:func:`recorded_store` for a ``with`` block (a module fixture's body): the store is closed after."""
    store, ids = recorded_store(folder, runs)
    try:
        yield store, ids
    finally:
        store.close()


def signed_in(store, name: str = "vic"):
    """A TestClient of the dashboard over ``store``, signed in as ``name``."""
    from golive.serve.app import create_app

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Starlette 1.x suggests httpx2 for its TestClient
        from starlette.testclient import TestClient
    client = TestClient(create_app(store, secret_key="t" * 40), follow_redirects=False)
    assert login(client, name).status_code == 303
    return client
