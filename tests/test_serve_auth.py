"""Dashboard users (golive users), login throttling, and the flip-flop rule, without a server."""
from __future__ import annotations

from hypothesis import given, strategies as st
from sqlalchemy import text

from golive.ledger.store import Store
from golive.serve import auth
from golive.serve.pages import UNSTABLE_FLIPS, flip_flops

from servehelpers import invoke


def test_users_add_hashes_with_argon2_in_its_own_table(tmp_path):
    store_dir = tmp_path / "store"
    Store(store_dir).close()
    res = invoke("users", "add", "ada", "--role", "auditor", "--store", str(store_dir),
                 input="a long passphrase\na long passphrase\n")
    assert res.exit_code == 0, res.output
    store = Store(store_dir)
    with store.read() as conn:
        name, role, digest = conn.execute(text("SELECT name, role, password_hash FROM serve_users")).one()
        assert conn.execute(text("SELECT count(*) FROM ledger_entries")).scalar() == 0
    assert (name, role) == ("ada", "auditor") and digest.startswith("$argon2id$") and "passphrase" not in digest
    assert auth.authenticate(store, "ada", "a long passphrase") == "auditor"
    assert auth.authenticate(store, "ada", "a long passphrasE") is None
    assert auth.authenticate(store, "nobody", "a long passphrase") is None
    listed = invoke("users", "list", "--store", str(store_dir))
    assert "ada\tauditor" in listed.output


def test_users_add_refuses_bad_input_with_exit_2(tmp_path):
    store_dir = tmp_path / "store"
    Store(store_dir).close()
    short = invoke("users", "add", "bob", "--role", "viewer", "--store", str(store_dir), input="short\nshort\n")
    assert short.exit_code == 2 and "at least 12 characters" in short.output
    bad_role = invoke("users", "add", "bob", "--role", "root", "--store", str(store_dir))
    assert bad_role.exit_code == 2
    bad_name = invoke("users", "add", "<b>", "--role", "viewer", "--store", str(store_dir),
                      input="a long passphrase\na long passphrase\n")
    assert bad_name.exit_code == 2 and "user name" in bad_name.output
    ok = invoke("users", "add", "bob", "--role", "viewer", "--store", str(store_dir),
                input="a long passphrase\na long passphrase\n")
    again = invoke("users", "add", "bob", "--role", "admin", "--store", str(store_dir),
                   input="a long passphrase\na long passphrase\n")
    assert ok.exit_code == 0 and again.exit_code == 2 and "exists" in again.output
    assert invoke("users", "remove", "bob", "--store", str(store_dir)).exit_code == 0
    assert invoke("users", "remove", "bob", "--store", str(store_dir)).exit_code == 2


def test_serve_refuses_a_folder_that_is_not_a_store(tmp_path):
    res = invoke("serve", "--store", str(tmp_path / "typo"))
    assert res.exit_code == 2 and "no evidence store" in res.output and not (tmp_path / "typo").exists()


def test_roles_are_ordered():
    assert auth.allows("admin", "auditor") and auth.allows("auditor", "viewer")
    assert not auth.allows("viewer", "auditor") and not auth.allows("auditor", "admin")
    assert not auth.allows(None, "viewer") and not auth.allows("root", "viewer")


def test_throttle_blocks_after_five_failures_until_the_window_passes():
    now = [0.0]
    throttle = auth.LoginThrottle(attempts=5, window_s=900, clock=lambda: now[0])
    for _ in range(5):
        assert not throttle.blocked("ada", "10.0.0.1")
        throttle.failed("ada", "10.0.0.1")
    assert throttle.blocked("ada", "10.0.0.1")
    assert throttle.blocked("ada", "10.0.0.2")  # per user name, from any address
    assert throttle.blocked("eve", "10.0.0.1")  # and per address, for any name
    assert not throttle.blocked("eve", "10.0.0.2")
    now[0] = 901.0
    assert not throttle.blocked("ada", "10.0.0.1")


def test_flip_flops_count_turns_between_pass_and_failing():
    assert flip_flops(["pass", "fail", "pass"]) == 2
    assert flip_flops(["fail", "partial", "error"]) == 0
    assert flip_flops(["pass", "missing", "fail", "skipped", "pass"]) == 2  # other statuses are not turns
    assert flip_flops(["pass", "waived", "pass"]) == 0
    assert flip_flops([]) == 0 and UNSTABLE_FLIPS == 2


@given(st.lists(st.sampled_from(["pass", "fail", "partial", "error", "missing", "skipped", "waived"]), max_size=30))
def test_flip_flops_match_a_direct_count(statuses):
    judged = [s == "pass" for s in statuses if s in ("pass", "fail", "partial", "error")]
    turns = sum(1 for i in range(1, len(judged)) if judged[i] != judged[i - 1])
    assert flip_flops(statuses) == turns
    assert flip_flops(list(reversed(statuses))) == turns


def test_the_proxy_user_header_needs_a_loopback_host(tmp_path):
    res = invoke("serve", "--store", str(tmp_path), "--host", "0.0.0.0", "--trust-user-header", "X-Remote-User")
    assert res.exit_code == 2 and "loopback" in res.output


def test_users_disable_and_password_commands(tmp_path):
    store_dir = tmp_path / "store"
    Store(store_dir).close()
    assert invoke("users", "add", "ada", "--role", "viewer", "--store", str(store_dir),
                  input="first password 1\nfirst password 1\n").exit_code == 0
    store = Store(store_dir)
    from golive.serve import sessions
    token = sessions.start(store, "ada", 3600)
    assert sessions.user_of(store, token) == ("ada", "viewer")
    res = invoke("users", "password", "ada", "--store", str(store_dir), input="second password 2\nsecond password 2\n")
    assert res.exit_code == 0 and "sessions ended" in res.output
    assert sessions.user_of(store, token) is None
    assert auth.authenticate(store, "ada", "second password 2") == "viewer"
    token = sessions.start(store, "ada", 3600)
    res = invoke("users", "disable", "ada", "--store", str(store_dir))
    assert res.exit_code == 0 and sessions.user_of(store, token) is None
    assert auth.authenticate(store, "ada", "second password 2") is None and "disabled" in \
        invoke("users", "list", "--store", str(store_dir)).output
    assert invoke("users", "disable", "ada", "--enable", "--store", str(store_dir)).exit_code == 0
    assert auth.authenticate(store, "ada", "second password 2") == "viewer"
    missing = invoke("users", "disable", "nobody", "--store", str(store_dir))
    assert missing.exit_code == 2 and "no user 'nobody'" in missing.output
    assert invoke("users", "password", "nobody", "--store", str(store_dir)).exit_code == 2
    expired = sessions.start(store, "ada", -1)
    assert sessions.user_of(store, expired) is None and sessions.user_of(store, "forged") is None
