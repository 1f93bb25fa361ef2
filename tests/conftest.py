"""Shared test setup: every test gets its own evidence store, so no test writes ./evidence; after
every CLI command a test runs, the stores it touched are scanned for people's private keys."""
import pytest


@pytest.fixture(autouse=True)
def isolated_evidence_store(tmp_path_factory, monkeypatch):
    store = tmp_path_factory.mktemp("evidence")
    monkeypatch.setenv("GOLIVE_STORE", str(store))
    monkeypatch.delenv("GOLIVE_DB", raising=False)
    return store



@pytest.fixture(autouse=True, scope="session")
def no_private_key_in_any_store():
    """Issue 16: no private key of a person ever appears under the store. Every ``CliRunner.invoke``
    of the session (module fixtures' too) is followed by a scan of the stores the command was
    pointed at (tests/store_guard.py); a finding fails the test that ran the command."""
    from click.testing import CliRunner
    from store_guard import StoreGuard, stores_named

    guard, original = StoreGuard(), CliRunner.invoke

    def invoke(self, cli, args=None, input=None, env=None, *rest, **kwargs):
        result = original(self, cli, args, input, env, *rest, **kwargs)
        guard.check(stores_named(args, env), args)
        return result

    CliRunner.invoke = invoke
    yield guard
    CliRunner.invoke = original


def pytest_configure(config):
    config.addinivalue_line("markers", "tamper: a ledger tamper case; passing means the tampering was detected")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Put the tamper cases of a test on its report (tests/tamper_summary.py)."""
    from tamper_summary import PROPERTY, take_pending

    outcome = yield
    report = outcome.get_result()
    if report.when != "call":
        return
    cases = take_pending()
    marker = item.get_closest_marker("tamper")
    if marker is not None:
        cases.append((marker.args[0] if marker.args else item.nodeid.removeprefix("tests/"), report.passed, True))
    report.user_properties += [(PROPERTY, list(case)) for case in cases]


def pytest_runtest_logreport(report):
    from tamper_summary import PROPERTY, TALLY

    for key, value in getattr(report, "user_properties", ()):
        if key == PROPERTY:
            name, detected, expected = value
            TALLY[name] = (bool(detected), bool(expected))


def pytest_terminal_summary(terminalreporter):
    """Print the ledger tamper suite's tally when tamper tests ran (tests/tamper_summary.py)."""
    from tamper_summary import summary_lines

    for line in summary_lines():
        terminalreporter.write_line(line)
