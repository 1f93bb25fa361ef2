"""``golive serve`` (the dashboard) and ``golive users`` (who may sign in to it)."""
from __future__ import annotations

import os
import secrets
from pathlib import Path

import click

SECRET_ENV = "GOLIVE_SERVE_SECRET"
LOOPBACK = ("127.0.0.1", "::1", "localhost")
_store_option = click.option("--store", "store_dir", envvar="GOLIVE_STORE", default=None,
                             type=click.Path(file_okay=False, path_type=Path),
                             help="Evidence store folder [default: ./evidence].")
_db_option = click.option("--db", "db_url", envvar="GOLIVE_DB", default=None,
                          help="Database URL (e.g. postgresql+psycopg://...) instead of the store's SQLite file.")


def _open(store_dir: Path | None, db_url: str | None):
    """The existing store (never a new, empty one: a typo in --store is an error)."""
    from golive.cli import InputError
    from golive.ledger.store import DEFAULT_STORE, StoreError, open_store

    folder = Path(store_dir or os.environ.get("GOLIVE_STORE") or DEFAULT_STORE)
    if not db_url and not (folder / "ledger.db").is_file():
        raise InputError(f"no evidence store at {folder} (no ledger.db); give --store DIR of a store "
                         "that `golive run` wrote, or --db URL")
    try:
        return open_store(folder, db_url)
    except StoreError as exc:
        raise InputError(str(exc)) from None


def session_secret(store) -> str:
    """``$GOLIVE_SERVE_SECRET``, else a random key kept (mode 0600) in ``<store>/serve/session.key``
    so that sessions survive a restart. It signs cookies only; it is never logged or recorded."""
    if os.environ.get(SECRET_ENV):
        return os.environ[SECRET_ENV]
    path = store.path / "serve" / "session.key"
    if not path.is_file():
        path.parent.mkdir(mode=0o700, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(48))
    return path.read_text(encoding="utf-8").strip()


@click.command("serve")
@_store_option
@_db_option
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; keep the default behind a reverse proxy.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535), help="Port to listen on.")
@click.option("--behind-tls", is_flag=True,
              help="A TLS-terminating proxy serves the app over https: session cookies get Secure, responses HSTS.")
@click.option("--trust-user-header", "user_header", metavar="HEADER",
              help="Trust this request header (e.g. X-Remote-User) set by an authenticating reverse proxy as the "
                   "signed-in user (who must exist in `golive users`). Only with --host on loopback.")
def serve(store_dir: Path | None, db_url: str | None, host: str, port: int, behind_tls: bool,
          user_header: str | None) -> None:
    """Serve the read-only dashboard of the evidence store: runs, a run's requirements, one
    requirement with its evidence and history, and comparisons of two runs.

    Sign-in is required; add users first with `golive users add NAME --role admin`.
    """
    import uvicorn

    from golive.cli import InputError, err
    from golive.serve import auth
    from golive.serve.app import create_app

    if user_header and host not in LOOPBACK:
        # anyone reaching the port directly could send the header and be whoever they name
        raise InputError(f"--trust-user-header needs --host on loopback ({', '.join(LOOPBACK)}) behind the proxy, "
                         f"not {host}")
    store = _open(store_dir, db_url)
    if not auth.list_users(store):
        err.print("[yellow]warning:[/] no users yet: add one with `golive users add NAME --role admin"
                  f"{' --store ' + str(store_dir) if store_dir else ''}`", highlight=False)
    app = create_app(store, secret_key=session_secret(store), behind_tls=behind_tls, user_header=user_header)
    err.print(f"golive dashboard of {store.path if not db_url else store.safe_url} on "
              f"http{'s' if behind_tls else ''}://{host}:{port}/ (Ctrl-C stops it)", highlight=False)
    uvicorn.run(app, host=host, port=port, log_level="warning", proxy_headers=True, server_header=False)


@click.group("users")
def users() -> None:
    """Dashboard users (kept in the evidence database's serve_users table, not in the ledger)."""


@users.command("add")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice(["viewer", "auditor", "admin"]),
              help="viewer: read pages; auditor: also download artifacts; admin: also the audit log and users.")
@_store_option
@_db_option
def users_add(name: str, role: str, store_dir: Path | None, db_url: str | None) -> None:
    """Add user NAME; the password is prompted (twice) and stored as an argon2 hash."""
    from golive.cli import InputError, out
    from golive.serve import auth

    store = _open(store_dir, db_url)
    password = click.prompt("password", hide_input=True, confirmation_prompt=True, err=True)
    try:
        auth.add_user(store, name, role, password)
    except auth.AuthError as exc:
        raise InputError(str(exc)) from None
    out.print(f"user {name} added as {role}", highlight=False)


@users.command("remove")
@click.argument("name")
@_store_option
@_db_option
def users_remove(name: str, store_dir: Path | None, db_url: str | None) -> None:
    """Remove user NAME (their signed-in sessions end at once)."""
    from golive.serve import auth

    _change_user(name, auth.remove_user(_open(store_dir, db_url), name), "removed")


@users.command("disable")
@click.argument("name")
@click.option("--enable", is_flag=True, help="Enable NAME again instead.")
@_store_option
@_db_option
def users_disable(name: str, enable: bool, store_dir: Path | None, db_url: str | None) -> None:
    """Disable user NAME (their sessions end at once; they cannot sign in until enabled again)."""
    from golive.serve import auth

    _change_user(name, auth.set_disabled(_open(store_dir, db_url), name, not enable),
                 "enabled" if enable else "disabled; their sessions ended")


@users.command("password")
@click.argument("name")
@_store_option
@_db_option
def users_password(name: str, store_dir: Path | None, db_url: str | None) -> None:
    """Set a new password for NAME (prompted twice); every session of NAME ends."""
    from golive.cli import InputError
    from golive.serve import auth

    store = _open(store_dir, db_url)
    _change_user(name, any(u["name"] == name for u in auth.list_users(store)), None)
    password = click.prompt("new password", hide_input=True, confirmation_prompt=True, err=True)
    try:
        auth.set_password(store, name, password)
    except auth.AuthError as exc:
        raise InputError(str(exc)) from None
    _change_user(name, True, "password changed; their sessions ended")


def _change_user(name: str, known: bool, done: str | None) -> None:
    """Exit 2 naming the way to list users when there is no user ``name``; else say ``done``."""
    from golive.cli import InputError, out

    if not known:
        raise InputError(f"no user {name!r}; `golive users list` shows them")
    if done:
        out.print(f"user {name} {done}", highlight=False)


@users.command("list")
@_store_option
@_db_option
def users_list(store_dir: Path | None, db_url: str | None) -> None:
    """List the dashboard's users and roles."""
    from golive.serve import auth

    rows = auth.list_users(_open(store_dir, db_url))
    for u in rows:  # tab-separated, for scripts
        click.echo(f"{u['name']}\t{u['role']}\t{u['created']}{chr(9) + 'disabled' if u['disabled'] else ''}")
    if not rows:
        click.echo("no users")
