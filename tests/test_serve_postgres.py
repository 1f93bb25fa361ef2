"""`golive serve` over a PostgreSQL evidence database (GOLIVE_TEST_PG_URL, set up by .ci/run):
users, sign-in, the audit log and every page work there as on SQLite."""
from __future__ import annotations

import hashlib
import json
import re
import warnings

import pytest

import servehelpers as h
from pg import create_database, drop_database, pg_url

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

pytestmark = [pytest.mark.skipif(not pg_url(), reason="GOLIVE_TEST_PG_URL is not set"),
              pytest.mark.filterwarnings("ignore::DeprecationWarning")]


@pytest.fixture(scope="module")
def pg_store(tmp_path_factory):
    from golive.ledger.store import Store

    url = create_database(pg_url())
    try:
        built = h.build(tmp_path_factory.mktemp("serve-pg"), demo=False, db_url=url)
        store = Store(built.path, url)
        yield built, store
        store.close()
    finally:
        drop_database(pg_url(), url)


def test_pages_over_postgresql(pg_store):
    from golive.serve.app import create_app

    built, store = pg_store
    assert not (built.path / "ledger.db").exists()  # nothing went to SQLite
    client = TestClient(create_app(store, secret_key="p" * 40), follow_redirects=False)
    assert h.login(client, "vic", "wrong password!").status_code == 401
    assert h.login(client, "aud").status_code == 303
    listed = re.findall(r'href="/runs/([0-9a-f-]{36})"', client.get("/runs").text)
    assert listed == list(reversed(built.runs))
    run = client.get(f"/runs/{built.runs[1]}", params={"status": "fail"}).text
    assert re.findall(r'/requirements/([A-Z0-9-]+)"', run) == ["PRE-PIPE-01"]
    page = client.get(f"/runs/{built.runs[2]}/requirements/PRE-PIPE-01").text
    assert "unstable: 2 pass/fail turns" in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    compare = client.get("/compare", params={"a": built.runs[0], "b": built.runs[1]}).text
    assert "PRE-PIPE-01" in compare.split("New failures (1)")[1].split("</table>")[0]
    digest = re.search(r'href="/artifacts/([0-9a-f]{64})"', page).group(1)
    res = client.get(f"/artifacts/{digest}")
    assert res.status_code == 200 and hashlib.sha256(res.content).hexdigest() == digest
    client.cookies.clear()
    h.login(client, "ada")
    log = client.get("/admin/audit").text
    assert f"/<wbr>artifacts/<wbr>{digest}" in log and "login-failed" in log
    doc = json.loads(next((built.path / "runs").glob(f"*_{built.runs[1]}.json")).read_text())
    assert f"Readiness: <strong>{doc['summary']['verdict']['state']}</strong>" in client.get(f"/runs/{built.runs[1]}").text
