"""Backups and restores of the whole database: ``flask backup create FILE`` and ``flask backup restore FILE
--into URL``.

- PostgreSQL: a custom-format dump (``pg_dump -Fc``: compressed, restorable table by table, consistent as of the
  moment it started, taken while the app runs) restored with ``pg_restore`` into a new database.
- SQLite: a copy made through SQLite's online backup API, consistent even while the app writes (a plain file
  copy of a WAL database is not).

Restore never overwrites: the target database must not exist yet (PostgreSQL: it is created; SQLite: the file
must be absent) — restore next to production, check it, then point ``DATABASE_URL`` at it. The client tools
(``pg_dump``, ``pg_restore``) must be of the server's major version or newer; the password, if any, is passed in
the environment, never on a command line other users can read.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import URL, make_url

cli = AppGroup("backup", help="Back up the database and restore a backup into a new database.")


class BackupError(RuntimeError):
    """A backup or restore could not be made (tool missing or failed, target already exists)."""


def _libpq(url: URL) -> tuple[list[str], dict[str, str]]:
    """Connection arguments for the PostgreSQL client tools, and an environment holding the password."""
    args = ["--host", url.host or "localhost", "--port", str(url.port or 5432), "--username", url.username or ""]
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return args, env


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} not found: install the PostgreSQL client tools (postgresql-client)")
    return found


def _run(command: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        raise BackupError(f"{Path(command[0]).name} failed: {done.stderr.strip()[-2000:]}")


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("an SQLite backup needs a database file")
    return Path(url.database)


def _copy_sqlite(source: sqlite3.Connection, target: Path) -> None:
    """Copy the open SQLite database ``source`` into the file ``target`` with SQLite's online backup, then
    close both connections."""
    try:
        copy = sqlite3.connect(target)
        try:
            source.backup(copy)
        finally:
            copy.close()
    finally:
        source.close()


def create_backup(database_url: str, target: Path) -> None:
    """Write a consistent backup of ``database_url`` to ``target`` (which must not exist yet)."""
    url = make_url(database_url)
    if target.exists():
        raise BackupError(f"{target} already exists")
    target.parent.mkdir(parents=True, exist_ok=True)
    if url.get_backend_name() == "postgresql":
        args, env = _libpq(url)
        _run([_tool("pg_dump"), "--format=custom", "--no-owner", *args, "--file", str(target), url.database or ""], env)
        return
    _copy_sqlite(sqlite3.connect(_sqlite_path(url)), target)


def restore_backup(backup: Path, database_url: str) -> None:
    """Restore ``backup`` into the new database ``database_url`` (refused if it exists)."""
    if not backup.is_file():
        raise BackupError(f"{backup} is not a file")
    url = make_url(database_url)
    if url.get_backend_name() == "postgresql":
        import psycopg

        args, env = _libpq(url)
        maintenance = url.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
        with psycopg.connect(maintenance, autocommit=True) as connection:
            exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (url.database,)).fetchone()
            if exists:
                raise BackupError(f"database {url.database} already exists: restore into a new one")
            connection.execute(psycopg.sql.SQL("CREATE DATABASE {}").format(psycopg.sql.Identifier(url.database or "")))
        _run(
            [
                _tool("pg_restore"),
                "--no-owner",
                "--exit-on-error",
                "--single-transaction",
                *args,
                "--dbname",
                url.database or "",
                str(backup),
            ],
            env,
        )
        return
    target = _sqlite_path(url)
    if target.exists():
        raise BackupError(f"{target} already exists: restore into a new file")
    target.parent.mkdir(parents=True, exist_ok=True)
    _copy_sqlite(sqlite3.connect(f"file:{backup}?mode=ro", uri=True), target)


@cli.command("create")
@click.argument("target", type=click.Path(dir_okay=False, path_type=Path))
def create_command(target: Path) -> None:
    """Back up the app's database (DATABASE_URL) to TARGET."""
    try:
        create_backup(current_app.config["SQLALCHEMY_DATABASE_URI"], target)
    except BackupError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"backup written to {target} ({target.stat().st_size} bytes)")


@cli.command("restore")
@click.argument("backup", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--into", "into", required=True, help="URL of the NEW database to restore into (must not exist).")
def restore_command(backup: Path, into: str) -> None:
    """Restore BACKUP into a new database; then point DATABASE_URL at it."""
    try:
        restore_backup(backup, into)
    except BackupError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"restored {backup} into {make_url(into).render_as_string(hide_password=True)}")


def init_app(app: Flask) -> None:
    app.cli.add_command(cli)
