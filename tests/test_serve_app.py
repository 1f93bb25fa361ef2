"""`golive serve` against a real store (tests/servehelpers.py): sign-in, CSRF, roles, every page
showing figures read from the ledger, artifact downloads by digest, escaping, security headers."""
from __future__ import annotations

import hashlib
import json
import re
import warnings

import pytest

from golive.ledger.store import Store, payload_bytes
from golive.serve import pages
from golive.serve.app import create_app
from golive.serve.security import CSP

import servehelpers as h

with warnings.catch_warnings():
    # Starlette 1.x suggests httpx2 for its TestClient; httpx still drives it
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return h.build(tmp_path_factory.mktemp("serve"))


@pytest.fixture(scope="module")
def store(built):
    s = Store(built.path)
    yield s
    s.close()


@pytest.fixture
def client(store):
    return TestClient(create_app(store, secret_key="k" * 40), follow_redirects=False)


def entries(store, run_id, kind="result"):
    from sqlalchemy import text
    with store.read() as conn:
        rows = conn.execute(text("SELECT seq, payload FROM ledger_entries WHERE run_id = :r AND kind = :k ORDER BY seq"),
                            {"r": run_id, "k": kind}).all()
    return [(seq, json.loads(payload_bytes(p))) for seq, p in rows]


def result_of(store, run_id, requirement_id):
    return next(body for _, body in entries(store, run_id) if body["requirement_id"] == requirement_id)


# --- sign-in, CSRF, roles ------------------------------------------------------------------

def test_pages_need_sign_in_and_logout_ends_the_session(client):
    res = client.get("/runs")
    assert res.status_code == 303 and res.headers["location"].startswith("/login?next=%2Fruns")
    res = h.login(client, "vic")
    assert res.status_code == 303 and res.headers["location"] == "/runs"
    cookie = res.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "secure" not in cookie
    page = client.get("/runs")
    assert page.status_code == 200 and "vic (viewer)" in page.text
    res = client.post("/logout", data={"csrf": h.csrf_of(page.text)})
    assert res.status_code == 303 and res.headers["location"] == "/login"
    assert client.get("/runs").status_code == 303


def test_wrong_password_is_refused_and_repeated_failures_are_throttled(client):
    res = h.login(client, "ada", "not the password")
    assert res.status_code == 401 and "wrong password" in res.text
    for _ in range(4):
        h.login(client, "ada", "still not it")
    res = h.login(client, "ada")  # the right password, after 5 failures
    assert res.status_code == 429 and "Too many failed sign-ins" in res.text
    assert client.get("/runs").status_code == 303


def test_forms_without_the_csrf_token_are_refused(client):
    client.get("/login")
    res = client.post("/login", data={"name": "vic", "password": h.PASSWORDS["vic"]})
    assert res.status_code == 403 and client.get("/runs").status_code == 303
    res = client.post("/login", data={"name": "vic", "password": h.PASSWORDS["vic"], "csrf": "forged"})
    assert res.status_code == 403
    assert h.login(client, "vic").status_code == 303
    assert client.post("/logout", data={}).status_code == 403
    assert client.post("/logout", data={"csrf": "forged"}).status_code == 403
    assert client.get("/runs").status_code == 200  # still signed in


def test_login_redirects_only_to_local_paths(client):
    token = h.csrf_of(client.get("/login").text)
    res = client.post("/login", data={"name": "vic", "password": h.PASSWORDS["vic"], "csrf": token,
                                      "next": "//evil.example/x"})
    assert res.headers["location"] == "/runs"


def test_a_viewer_cannot_open_admin_pages_or_download(client, built, store):
    h.login(client, "vic")
    assert client.get("/admin/audit").status_code == 403
    assert client.get("/admin/users").status_code == 403
    blob = result_of(store, built.demo_run, "LIVE-LIMITED-06")["blobs"][0]["blob"]
    assert client.get(f"/artifacts/{blob}").status_code == 403
    page = client.get(f"/runs/{built.demo_run}/requirements/LIVE-LIMITED-06").text
    assert "/artifacts/" not in page and "auditors download" in page


def test_the_audit_log_shows_who_viewed_what_to_admins_only(client, built):
    h.login(client, "vic")
    client.get(f"/runs/{built.runs[0]}")
    client.get("/admin/audit")  # refused, and recorded as such
    client.cookies.clear()
    h.login(client, "ada")
    log = client.get("/admin/audit")
    assert log.status_code == 200
    rows = re.findall(r"<tr><td>[^<]+</td><td>(\w+)</td><td>(\w*)</td><td>([\w-]+)</td><td class=\"mono\">(.*?)</td>", log.text)
    assert ("vic", "viewer", "refused") in [r[:3] for r in rows]
    assert any(r[0] == "vic" and r[2] == "view" and built.runs[0][:8] in r[3] for r in rows)
    assert "aud" in client.get("/admin/users").text


def test_removed_users_are_signed_out_at_their_next_request(store):
    from golive.serve import auth
    auth.add_user(store, "temp", "viewer", "temporary password")
    c = TestClient(create_app(store, secret_key="k" * 40), follow_redirects=False)
    h.login(c, "temp", "temporary password")
    assert c.get("/runs").status_code == 200
    assert auth.remove_user(store, "temp")
    assert c.get("/runs").status_code == 303


def test_sign_out_disabling_and_a_new_password_end_sessions_on_the_server(store):
    from golive.serve import auth
    app = create_app(store, secret_key="k" * 40)
    auth.add_user(store, "sess", "viewer", "session password 1")
    first, second = (TestClient(app, follow_redirects=False) for _ in range(2))
    h.login(first, "sess", "session password 1")
    h.login(second, "sess", "session password 1")
    copied = dict(first.cookies)  # someone kept a copy of the signed cookie
    page = first.get("/runs")
    assert first.post("/logout", data={"csrf": h.csrf_of(page.text)}).status_code == 303
    thief = TestClient(app, cookies=copied, follow_redirects=False)
    assert thief.get("/runs").status_code == 303  # the signature still holds; the session is gone
    assert second.get("/runs").status_code == 200  # the user's other session lives on

    assert auth.set_disabled(store, "sess", True)
    assert second.get("/runs").status_code == 303
    assert h.login(second, "sess", "session password 1").status_code == 401
    assert auth.set_disabled(store, "sess", False)
    assert h.login(second, "sess", "session password 1").status_code == 303
    assert auth.set_password(store, "sess", "a new password 2")
    assert second.get("/runs").status_code == 303
    assert h.login(second, "sess", "session password 1").status_code == 401
    assert h.login(second, "sess", "a new password 2").status_code == 303 and second.get("/runs").status_code == 200
    auth.remove_user(store, "sess")


# --- pages show the ledger's figures -----------------------------------------------------------

def test_runs_list_filters_and_pages(client, built, monkeypatch):
    h.login(client, "vic")
    page = client.get("/runs").text
    listed = re.findall(r'href="/runs/([0-9a-f-]{36})"', page)
    assert listed == [*reversed(built.runs), built.demo_run]  # newest first
    assert page.count("NOT READY") >= 4
    demo_target = str(built.demo_workspace.resolve())
    only_demo = client.get("/runs", params={"target": demo_target}).text
    assert re.findall(r'href="/runs/([0-9a-f-]{36})"', only_demo) == [built.demo_run]
    assert "No run matches" in client.get("/runs", params={"since": "2999-01-01"}).text
    assert "No run matches" in client.get("/runs", params={"verdict": "READY"}).text
    monkeypatch.setattr(pages, "PAGE_SIZE", 3)
    second = client.get("/runs", params={"page": 2}).text
    assert re.findall(r'href="/runs/([0-9a-f-]{36})"', second) == [built.demo_run] and "page 2 of 2" in second


def test_run_page_shows_verdict_figures_table_and_ledger_head(client, built, store):
    h.login(client, "vic")
    run = built.runs[1]
    page = client.get(f"/runs/{run}").text
    doc = json.loads(next((built.path / "runs").glob(f"*_{run}.json")).read_text())
    assert f"Readiness: <strong>{doc['summary']['verdict']['state']}</strong>" in page
    covered = doc["summary"]["figures"]["covered"]
    assert re.search(rf'<tr class="figure-covered"><td>Covered</td><td>{covered} of', page)
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in page  # coverage charts, server-rendered
    results = [body for _, body in entries(store, run)]
    assert f"{len(results)} of {len(results)} requirements" in page
    failing = [r["requirement_id"] for r in results if r["status"] == "fail"]
    assert failing == ["PRE-PIPE-01"]
    only = client.get(f"/runs/{run}", params={"status": "fail"}).text
    assert re.findall(r'/requirements/([A-Z0-9-]+)"', only) == failing
    p1 = client.get(f"/runs/{run}", params={"priority": "P1", "phase": "1"}).text
    expected = [r["requirement_id"] for r in results if r["priority"] == "P1" and r["phase"] == 1]
    assert re.findall(r'/requirements/([A-Z0-9-]+)"', p1) == expected
    assert re.findall(r'/requirements/([A-Z0-9-]+)"', client.get(f"/runs/{run}", params={"q": "pipe-01"}).text) == ["PRE-PIPE-01"]
    seq, checkpoint = entries(store, run, "checkpoint")[0]
    assert checkpoint["merkle_root"] in page and checkpoint["key_id"] in page


def test_waivers_show_on_runs_after_they_were_recorded(client, built):
    h.login(client, "vic")
    before, after = client.get(f"/runs/{built.runs[1]}").text, client.get(f"/runs/{built.runs[2]}").text
    assert "No waiver applied to this run." in before
    waivers = after.split('id="waivers"')[1].split("</table>")[0]
    assert "LIVE-SHADOW-01" in waivers and "Ada Risk" in waivers
    row = re.search(r'<tr class="status-waived">.*?LIVE-SHADOW-01.*?</tr>', after, re.S).group(0)
    assert "recorded missing" in row


def test_requirement_page_shows_thresholds_with_observed_values(client, built, store):
    h.login(client, "aud")
    recorded = result_of(store, built.demo_run, "LIVE-LIMITED-06")
    threshold = recorded["thresholds"][0]
    page = client.get(f"/runs/{built.demo_run}/requirements/LIVE-LIMITED-06").text
    row = re.search(r'<tr class="threshold-fails">(.*?)</tr>', page).group(1)
    assert f"{threshold['observed']} {threshold['unit']}" in row and threshold["metric"] in row
    assert f"&lt;= {threshold['value']} USD" in row
    assert recorded["details"]["formula"][:40] in page
    assert "Cost monitoring" in page and "Lines" not in page and f"{recorded['plan_lines'][0]}–" in page
    disk = client.get(f"/runs/{built.demo_run}/requirements/RISK-06").text
    observed = next(t for t in result_of(store, built.demo_run, "RISK-06")["thresholds"] if t["metric"] == "disk_max")
    assert f"{observed['observed']} %" in disk


def test_artifact_download_is_the_recorded_blob_as_an_attachment(client, built, store):
    h.login(client, "aud")
    recorded = result_of(store, built.demo_run, "LIVE-LIMITED-06")
    page = client.get(f"/runs/{built.demo_run}/requirements/LIVE-LIMITED-06").text
    for artifact in recorded["artifacts"]:
        assert artifact["sha256"] in page
    blob = recorded["blobs"][0]
    res = client.get(f"/artifacts/{blob['blob']}")
    assert res.status_code == 200
    assert hashlib.sha256(res.content).hexdigest() == blob["sha256"] == blob["blob"]
    assert res.headers["content-type"] == "application/octet-stream"
    assert res.headers["content-disposition"].startswith("attachment;")
    assert "costs.csv" in res.headers["content-disposition"] or "fills.csv" in res.headers["content-disposition"]
    # only digests some recorded result lists, only well-formed ones
    assert client.get(f"/artifacts/{'0' * 64}").status_code == 404
    assert client.get("/artifacts/..%2F..%2Fledger.db").status_code == 404
    assert client.get(f"/artifacts/{blob['blob'].upper()}").status_code == 404


def test_a_modified_blob_is_not_served(client, built, store, tmp_path):
    h.login(client, "aud")
    blob = result_of(store, built.runs[0], "PRE-PIPE-01")["blobs"][0]["blob"]
    path = store.blob_path(blob)
    original = path.read_bytes()
    path.chmod(0o644)
    try:
        path.write_bytes(original + b"tampered")
        res = client.get(f"/artifacts/{blob}")
        assert res.status_code == 409 and "golive evidence verify" in res.text
    finally:
        path.write_bytes(original)
        path.chmod(0o444)


def test_history_marks_a_flip_flopping_requirement_unstable(client, built, store):
    h.login(client, "vic")
    statuses = [result_of(store, r, "PRE-PIPE-01")["status"] for r in built.runs]
    assert statuses == ["pass", "fail", "pass"]
    page = client.get(f"/runs/{built.runs[2]}/requirements/PRE-PIPE-01").text
    assert "unstable: 2 pass/fail turns" in page
    history = page.split("<h2>History</h2>")[1]
    assert [s for s in re.findall(r"</svg> (\w+)</td>", history)] == ["pass", "fail", "pass"]
    earlier = client.get(f"/runs/{built.runs[1]}/requirements/PRE-PIPE-01").text
    assert "unstable" not in earlier.split("<h2>History")[0]  # one turn so far


def test_history_and_waivers_are_of_the_runs_own_target(client, built):
    h.login(client, "vic")
    demo = client.get(f"/runs/{built.demo_run}/requirements/LIVE-LIMITED-06").text.split("<h2>History</h2>")[1]
    assert re.findall(r'href="/runs/([0-9a-f-]{36})/requirements/', demo) == [built.demo_run]  # not the xss runs
    shadow = client.get(f"/runs/{built.runs[2]}/requirements/LIVE-SHADOW-01").text
    waivers = shadow.split("<h2>Waivers and attestations</h2>")[1].split("<h2>")[0]
    assert "<td>applied</td>" in waivers and "Ada Risk" in waivers
    before = client.get(f"/runs/{built.runs[0]}/requirements/LIVE-SHADOW-01").text
    assert "<td>not applied</td>" in before.split("<h2>Waivers and attestations</h2>")[1]  # recorded after it


def test_compare_lists_new_failures_and_fixes(client, built):
    h.login(client, "vic")
    first, second, third = built.runs
    page = client.get("/compare", params={"a": first, "b": second}).text
    new = page.split("New failures (1)")[1].split("</table>")[0]
    assert "PRE-PIPE-01" in new and "<td>pass</td><td>fail</td>" in new
    assert "Fixed (0)" in page and "Regressed (0)" in page
    back = client.get("/compare", params={"a": second, "b": third}).text
    assert "PRE-PIPE-01" in back.split("Fixed (1)")[1].split("</table>")[0]
    # LIVE-SHADOW-01: missing -> waived once the waiver holds
    assert "LIVE-SHADOW-01" in back.split("Regressed (0)")[1].split("Unchanged")[0] or \
        "LIVE-SHADOW-01" in back.split("Other changes")[1].split("Unchanged")[0]
    across = client.get("/compare", params={"a": built.demo_run, "b": third}).text
    assert "different targets" in across
    assert "Choose two recorded runs" in client.get("/compare", params={"a": "nope", "b": third}).text


def test_unknown_runs_and_requirements_are_404(client, built):
    h.login(client, "vic")
    assert client.get("/runs/not-a-run").status_code == 404
    assert client.get(f"/runs/{built.runs[0]}/requirements/NOPE-01").status_code == 404


# --- escaping and headers ----------------------------------------------------------------------

def test_xss_payloads_render_as_text(client, built, store):
    h.login(client, "aud")
    escaped = "&lt;img src=x onerror=alert(1)&gt;"
    failing = result_of(store, built.runs[1], "PRE-PIPE-01")
    assert h.PAYLOAD in failing["reason"] and any(h.PAYLOAD in t for t in failing["covered_by"])
    assert any(h.PAYLOAD in a["path"] for a in failing["artifacts"])
    req = client.get(f"/runs/{built.runs[1]}/requirements/PRE-PIPE-01").text
    reason = req.split("<th>Reason</th>")[1].split("</tr>")[0]
    tests = req.split("<h2>Linked tests</h2>")[1].split("</table>")[0]
    artifacts = req.split("<h2>Artifacts</h2>")[1].split("</table>")[0]
    for part in (reason, tests, artifacts):
        assert "<img" not in part and ("onerror=alert(1)" in part)
    assert escaped in reason
    run = client.get(f"/runs/{built.runs[2]}").text
    assert f"shadow week scheduled {escaped}" in run and "<img" not in run
    for page in (req, run, client.get(f"/runs/{built.runs[1]}").text):
        assert "<script" not in page and " style=" not in page


def test_security_headers_on_every_response(client, built):
    for res in (client.get("/login"), client.get("/runs"), client.get("/static/serve.css")):
        assert res.headers["content-security-policy"] == CSP and "default-src 'self'" in CSP
        assert "'unsafe-inline'" not in CSP
        assert res.headers["x-content-type-options"] == "nosniff" and res.headers["x-frame-options"] == "DENY"
    assert client.get("/static/../ledger.db").status_code == 404


def test_behind_tls_cookies_are_secure(store):
    c = TestClient(create_app(store, secret_key="k" * 40, behind_tls=True), base_url="https://testserver",
                   follow_redirects=False)
    res = h.login(c, "vic")
    assert "secure" in res.headers["set-cookie"].lower()
    assert res.headers["strict-transport-security"].startswith("max-age=")


def test_the_app_never_writes_the_ledger(client, built, store):
    from sqlalchemy import text
    with store.read() as conn:
        before = conn.execute(text("SELECT size, head FROM ledger_head")).one()
    h.login(client, "ada")
    for path in ("/runs", f"/runs/{built.runs[0]}", f"/runs/{built.runs[0]}/requirements/PRE-PIPE-01",
                 f"/compare?a={built.runs[0]}&b={built.runs[1]}", "/admin/audit"):
        assert client.get(path).status_code == 200
    with store.read() as conn:
        assert conn.execute(text("SELECT size, head FROM ledger_head")).one() == before
        kinds = {k for (k,) in conn.execute(text("SELECT DISTINCT kind FROM ledger_entries"))}
    assert not kinds & {"login", "view", "user"}


def test_trends_draw_one_chart_per_series(client, built):
    h.login(client, "vic")
    page = client.get("/trends").text
    assert page.count('<h2 class="series">') == 2  # the demo slice and the reference workspace: never mixed
    sections = page.split('<h2 class="series">')[1:]
    xss = next(s for s in sections if "xss-workspace" in s)
    assert xss.count("<polyline") == 2 and "3 runs" in xss  # coverage and verification lines
    assert "a trend needs two" in next(s for s in sections if "LIVE-LIMITED-06, RISK-06" in s)
    later = client.get("/trends", params={"since": "2999-01-01"}).text
    assert "No run with saved figures in this period." in later


def test_ledger_status_shows_size_checkpoints_and_keys(client, built, store):
    from golive.serve.queries import ledger_head
    h.login(client, "vic")
    page = client.get("/ledger").text
    size, head = ledger_head(store)
    assert f'<td class="ledger-size">{size}</td>' in page and head in page
    for run in (built.demo_run, *built.runs):
        seq, checkpoint = entries(store, run, "checkpoint")[0]
        assert checkpoint["merkle_root"] in page
    keys = page.split("<h2>Keys</h2>")[1]
    # waiver entries: the P1 waiver and its co-approval (the plan's waiver policy asks for two
    # people) count as one waiver
    assert "Ada Risk" in keys and "ledger" in keys
    assert "Waivers / attestations</th><td>1 / 0 (and 1 co-approval(s) of those waivers)" in page


def test_ledger_status_lists_revocations_corrections_signoffs_notifications(built, tmp_path):
    import shutil

    from golive.ledger.keyring import recorded_keys
    from golive.notify.events import Event
    from golive.notify.message import compose
    from golive.notify.rules import load_rules
    from golive.notify.send import deliver

    copy = tmp_path / "store"
    shutil.copytree(built.path, copy)
    store = Store(copy)
    waiver_seq = next(seq for seq, _ in entries(store, "-", "waiver"))
    result_seq = entries(store, built.runs[0])[0][0]
    where = ("--store", str(copy))
    assert h.invoke("evidence", "revoke", str(waiver_seq), "--reason", f"moved {h.PAYLOAD}", "--by", "Ada Risk",
                    *where).exit_code == 0
    assert h.invoke("evidence", "correct", str(result_seq), "--reason", "read the wrong file", "--by", "Ada Risk",
                    *where).exit_code == 0
    res = h.invoke("signoff", built.runs[2], "--decision", "no-go", "--note", "shadow week first", "--by", "Ada Risk",
                   *where)
    assert res.exit_code == 0, res.output
    person = next(k for k, info in recorded_keys(store).items() if info.get("name") == "Ada Risk")
    assert h.invoke("keys", "revoke", person[:16], "--reason", "left the firm", *where).exit_code == 0
    (copy / "golive-store.toml").write_text('[notify]\n[[notify.channel]]\nname = "desk"\n'
                                            'url = "json://127.0.0.1:9/hook"\n', encoding="utf-8")
    event = Event("p1-failure", "PRE-PIPE-01", "P1 requirement PRE-PIPE-01 fail", {"requirement_id": "PRE-PIPE-01"})
    sent = deliver(store, load_rules(copy), [event], lambda chosen: compose(chosen, None), run_id=built.runs[1],
                   sender=lambda channel, message: (True, ""))  # delivered (no network); the recording is real
    assert [d.outcome for d in sent] == ["sent"]

    client = TestClient(create_app(store, secret_key="k" * 40), follow_redirects=False)
    h.login(client, "vic")
    page = client.get("/ledger").text
    section = lambda anchor: page.split(f'<h2 id="{anchor}">')[1].split("<h2")[0]  # noqa: E731
    revocations = section("revocations")
    assert f"entry {waiver_seq}" in revocations and "waiver" in revocations and "Ada Risk" in revocations
    assert "moved &lt;img src=x onerror=alert(1)&gt;" in revocations and "<img" not in page
    corrections = section("corrections")
    assert f"entry {result_seq}" in corrections and "result" in corrections and "read the wrong file" in corrections
    signoffs = section("signoffs")
    assert "no-go" in signoffs and "shadow week first" in signoffs and built.runs[2][:8] in signoffs
    notifications = section("notifications")
    assert "desk" in notifications and "sent" in notifications and "p1-failure" in notifications
    assert "PRE-PIPE-01" in notifications and "127.0.0.1:9" not in page  # never the channel's URL
    keys = page.split("<h2>Keys</h2>")[1]
    assert '<tr class="key-revoke">' in keys and "left the firm" in keys
    run_page = client.get(f"/runs/{built.runs[2]}").text.split('<h2 id="signoffs">')[1].split("<h2")[0]
    assert "Ada Risk" in run_page and "no-go" in run_page and "shadow week first" in run_page
    assert "<td>verified</td>" in run_page  # signed before the key was revoked
    other = client.get(f"/runs/{built.runs[0]}").text.split('<h2 id="signoffs">')[1].split("<h2")[0]
    assert "asks for no sign-off and none is recorded" in other
    kinds = page.split("Entries by kind")[1].split("</table>")[0]
    for kind, count in (("revocation", 1), ("correction", 1), ("signoff", 1), ("notification", 1), ("waiver", 2)):
        assert f'<tr class="kind-{kind}"><td>{kind}</td><td>{count}</td></tr>' in kinds  # waiver: and its co-approval
    store.close()


def test_a_failing_store_is_a_page_without_traceback(client, built, monkeypatch):
    from sqlalchemy.exc import OperationalError
    h.login(client, "vic")

    def broken(*args, **kwargs):
        raise OperationalError("SELECT 1", {}, Exception("postgresql://golive:secret@db/golive is down"))
    monkeypatch.setattr(pages, "run_page", broken)
    res = client.get(f"/runs/{built.runs[0]}")
    assert res.status_code == 503 and "Evidence store unavailable" in res.text
    assert "secret" not in res.text and "Traceback" not in res.text


def test_an_authenticating_proxy_header_is_trusted_only_when_configured(store, built):
    from golive.serve import auth
    proxied = TestClient(create_app(store, secret_key="k" * 40, user_header="X-Remote-User"), follow_redirects=False)
    page = proxied.get("/runs", headers={"X-Remote-User": "vic"})
    assert page.status_code == 200 and "vic (viewer, signed in by the proxy)" in page.text
    assert "Sign out" not in page.text
    assert proxied.get("/admin/audit", headers={"X-Remote-User": "vic"}).status_code == 403
    assert proxied.get("/runs", headers={"X-Remote-User": "mallory"}).status_code == 403
    assert proxied.get("/runs").status_code == 303  # no header: the sign-in page
    assert proxied.get("/runs").status_code == 303  # and no session was left behind by the header
    assert any(e["user"] == "mallory" and e["action"] == "refused" for e in auth.audit_log(store, 50))
    plain = TestClient(create_app(store, secret_key="k" * 40), follow_redirects=False)
    assert plain.get("/runs", headers={"X-Remote-User": "ada"}).status_code == 303  # not configured: ignored
