"""PostgreSQL test helpers: a throwaway database per test, and the back-end parametrisation.

``GOLIVE_TEST_PG_URL`` names a PostgreSQL server and a database the test user may connect to
and whose user may ``CREATE DATABASE`` (``.ci/run`` sets it up on loopback). Each test gets its
own fresh database, dropped afterwards, so tests never see each other's ledgers.

When the variable is unset only SQLite runs. When it is set but the server cannot be reached
the tests FAIL: a CI run that silently skipped PostgreSQL would claim coverage it never had.
"""
from __future__ import annotations

import os
import uuid

import pytest

PG_URL_ENV = "GOLIVE_TEST_PG_URL"


def pg_url() -> str | None:
    return os.environ.get(PG_URL_ENV) or None


def backends() -> list:
    """pytest params: SQLite always, PostgreSQL when ``GOLIVE_TEST_PG_URL`` is set."""
    params = [pytest.param("sqlite", id="sqlite")]
    if pg_url():
        params.append(pytest.param("postgresql", id="postgresql"))
    return params


def _admin_engine(base_url: str):
    from sqlalchemy import create_engine

    # CREATE/DROP DATABASE cannot run inside a transaction block
    return create_engine(base_url, isolation_level="AUTOCOMMIT")


def create_database(base_url: str) -> str:
    """A new empty database on the server of ``base_url``; returns its URL."""
    from sqlalchemy import text
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import OperationalError

    name = f"golive_t_{uuid.uuid4().hex[:12]}"
    engine = _admin_engine(base_url)
    try:
        with engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as exc:
        pytest.fail(f"{PG_URL_ENV} is set but PostgreSQL is unreachable "
                    f"({make_url(base_url).render_as_string(hide_password=True)}): {exc.orig}")
    finally:
        engine.dispose()
    return make_url(base_url).set(database=name).render_as_string(hide_password=False)


def drop_database(base_url: str, url: str) -> None:
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    name = make_url(url).database
    engine = _admin_engine(base_url)
    try:
        with engine.connect() as conn:
            # a test's leftover connections (a killed subprocess) must not keep the database alive
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        engine.dispose()


@pytest.fixture(params=backends())
def db_url(request):
    """The database URL for a store: ``None`` (the store's own SQLite file) or a fresh
    PostgreSQL database."""
    if request.param == "sqlite":
        yield None
        return
    base = pg_url()
    url = create_database(base)
    try:
        yield url
    finally:
        drop_database(base, url)
