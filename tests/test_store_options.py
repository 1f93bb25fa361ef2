"""Every command that reads or writes evidence takes the store the same way (issue 16.4):
``--store DIR`` (env GOLIVE_STORE) and ``--db URL`` (env GOLIVE_DB), with the same names and
environment variables; its ``--help`` says so; and read-only commands pointed at a store that
does not exist never create one, whichever of the four selectors names it."""
from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from golive.cli import cli

# commands that never touch an evidence store (a plan, a target, a file in hand)
NO_STORE = {"validate", "plugins", "demo", "plugin new", "link", "frameworks", "evidence verify-envelope",
            "evidence verify-proof", "evidence witness init", "evidence witness serve",
            "evidence verify-timestamp", "evidence verify-bundle", "evidence verify-report",
            "evidence verify-trail", "keys person-init"}
# read-only commands and the arguments of a harmless invocation
READ_ONLY = {"history": [], "evidence show": [], "evidence verify": [], "keys list": [], "schedule list": [],
             "evidence checkpoint": [], "users list": [], "signoff status": ["no-such-run"],
             "assess": ["--framework", "rts6", "--period", "2026-01-01..2026-12-31"]}


def commands(group: click.Group = cli, path: tuple[str, ...] = ()):
    for name, sub in sorted(group.commands.items()):
        if isinstance(sub, click.Group):
            yield from commands(sub, (*path, name))
        else:
            yield " ".join((*path, name)), sub


ALL = dict(commands())


@pytest.mark.parametrize("name", sorted(n for n in ALL if n not in NO_STORE))
def test_store_options_are_the_same_everywhere(name):
    options = {o.name: o for o in ALL[name].params if isinstance(o, click.Option)}
    store, db = options.get("store_dir"), options.get("db_url")
    assert store is not None and db is not None, f"golive {name} lacks --store or --db"
    assert (store.opts, store.envvar) == (["--store"], "GOLIVE_STORE"), name
    assert (db.opts, db.envvar) == (["--db"], "GOLIVE_DB"), name
    help_text = CliRunner().invoke(cli, [*name.split(), "--help"]).output
    assert "--store" in help_text and "--db" in help_text


def test_every_command_is_classified():
    unknown = [n for n in ALL if n in NO_STORE and ALL[n].params and
               any(getattr(o, "name", "") in ("store_dir", "db_url") for o in ALL[n].params)]
    assert not unknown, f"listed as storeless but take a store: {unknown}"


@pytest.mark.parametrize("name", sorted(READ_ONLY))
@pytest.mark.parametrize("selector", ["--store", "GOLIVE_STORE"])
def test_read_only_commands_never_create_a_store(tmp_path, monkeypatch, name, selector):
    missing = tmp_path / "no-such-store"
    monkeypatch.delenv("GOLIVE_STORE", raising=False)
    monkeypatch.delenv("GOLIVE_DB", raising=False)
    args = [*name.split(), *READ_ONLY[name]]
    if selector == "--store":
        args += ["--store", str(missing)]
    else:
        monkeypatch.setenv("GOLIVE_STORE", str(missing))
    res = CliRunner().invoke(cli, args)
    assert res.exit_code in (0, 2), (name, res.output)
    assert "Traceback" not in res.output
    assert not missing.exists(), f"golive {name} created {missing}"


@pytest.mark.parametrize("name", sorted(READ_ONLY))
@pytest.mark.parametrize("selector", ["--db", "GOLIVE_DB"])
def test_read_only_commands_read_the_database_they_are_given(tmp_path, monkeypatch, name, selector):
    from golive.ledger import open_store

    store_dir = tmp_path / "store"
    open_store(store_dir).close()  # an existing ledger, named only by its URL
    url = f"sqlite:///{store_dir / 'ledger.db'}"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GOLIVE_STORE", str(store_dir))  # keys/objects folder; the database by URL
    monkeypatch.delenv("GOLIVE_DB", raising=False)
    args = [*name.split(), *READ_ONLY[name]]
    if selector == "--db":
        args += ["--db", url]
    else:
        monkeypatch.setenv("GOLIVE_DB", url)
    res = CliRunner().invoke(cli, args)
    assert res.exit_code in (0, 1, 2) and "Traceback" not in res.output, (name, res.output)
    assert not (tmp_path / "evidence").exists()
