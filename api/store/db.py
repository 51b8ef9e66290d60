"""Database engine, sessions and migrations (SQLite by default, PostgreSQL by URL).

The URL comes from ``VIVRES_DATABASE_URL`` (e.g. ``postgresql+psycopg://user@host/db``);
without it, ``sqlite:///vivres.db`` in the working directory. Migrations are Alembic
revisions shipped inside the package (``api/migrations``) and configured here, without an
``alembic.ini``, so they run the same from a checkout or an installed wheel.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from api.settings import DEFAULT_DATABASE_URL as DEFAULT_URL
from api.settings import ENV_DATABASE_URL as ENV_URL
from api.settings import normalise_database_url, settings

__all__ = ["DEFAULT_URL", "ENV_URL", "Store", "database_url"]
MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"


def database_url(url: str | None = None) -> str:
    """The URL to use: the argument, else ``VIVRES_DATABASE_URL``, else a local SQLite file.

    ``postgresql://`` and ``postgres://`` URLs use the psycopg (3) driver.
    """
    return normalise_database_url(url) if url else settings().database_url


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # WAL lets the API read while the worker writes; busy_timeout waits instead of failing
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _create_private(database: str | None) -> None:
    """Create a new SQLite file readable by its owner only (0600): it holds key hashes and
    every hub's data (SQLite gives its -wal and -shm files the same mode)."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    # an existing file keeps its mode; a missing folder is SQLite's error to report
    with contextlib.suppress(FileExistsError, FileNotFoundError, IsADirectoryError):
        os.close(os.open(database, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))


def make_engine(url: str | None = None) -> Engine:
    """Create an engine for ``url`` (see :func:`database_url`)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    from core.errors import InputError

    url = database_url(url)
    try:
        if url.startswith("sqlite"):
            _create_private(make_url(url).database)
            engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
            event.listen(engine, "connect", _sqlite_pragmas)
            return engine
        return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)
    except ModuleNotFoundError as exc:
        raise InputError(
            f"database URL {url.split('://')[0]}://…: its driver is not "
            f"installed ({exc.name}); for PostgreSQL: pip install "
            "'psycopg[binary]'"
        ) from None
    except ArgumentError as exc:
        raise InputError(f"{ENV_URL} / --db: not a database URL ({exc})") from None


def alembic_config(engine: Engine):
    """An Alembic config pointing at the migrations inside the package."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option(
        "sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%")
    )
    return config


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the database schema up to ``revision`` (idempotent)."""
    from alembic import command

    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


@dataclass(frozen=True, slots=True)
class Store:
    """An engine and its session factory: what the API, the worker and the CLI share."""

    engine: Engine
    sessions: sessionmaker[Session]

    @classmethod
    def open(cls, url: str | None = None, *, upgrade: bool = True) -> Store:
        """Connect to the database at ``url`` and apply pending migrations."""
        from sqlalchemy.exc import OperationalError

        from core.errors import InputError

        engine = make_engine(url)
        if upgrade:
            try:
                migrate(engine)
            except OperationalError as exc:
                first = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
                raise InputError(
                    f"cannot open the database "
                    f"{engine.url.render_as_string(hide_password=True)}: "
                    f"{first}"
                ) from None
        return cls(engine=engine, sessions=sessionmaker(engine, expire_on_commit=False))

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session committed on success, rolled back on error."""
        with self.sessions() as session, session.begin():
            yield session
