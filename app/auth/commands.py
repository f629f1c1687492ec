"""flask users …: provision, list and deactivate staff accounts, and set passwords."""

from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from app.auth import accounts
from app.auth.models import User
from app.auth.roles import CREW, ROLES
from app.core import audit
from app.core.errors import DomainError
from app.extensions import db
from app.org.models import Crew, Department

users_cli = click.Group("users", help="Manage staff accounts.")


def _read_password() -> str:
    stdin = sys.stdin
    if stdin.isatty():
        return click.prompt("Password", hide_input=True, confirmation_prompt=True)
    # piped: `echo 'secret' | flask users create …` — one line, without its newline
    return stdin.readline().rstrip("\r\n")


@users_cli.command("create")
@click.option("--email", required=True, help="Sign-in email (stored lower-case).")
@click.option(
    "--role",
    required=True,
    help=f"One of {', '.join(ROLES)}.",
)
@click.option("--department", "department_code", help="Department code (dispatchers need one).")
@click.option("--crew", "crew_name", help="Crew name (crew members need one; sets the department).")
@click.option("--name", default="", help="Full name shown to colleagues.")
@with_appcontext
def create_cmd(
    email: str, role: str, department_code: str | None, crew_name: str | None, name: str
) -> None:
    """Create a staff account; the password is read from standard input."""
    if role not in ROLES:
        raise click.ClickException(f"Unknown role {role!r}; use one of {', '.join(ROLES)}.")
    department_id = None
    if department_code:
        department_id = db.session.scalar(
            select(Department.id).where(Department.code == department_code)
        )
        if department_id is None:
            known = ", ".join(db.session.scalars(select(Department.code).order_by(Department.code)))
            raise click.ClickException(
                f"Unknown department {department_code!r}; known codes: {known or 'none yet'}."
            )
    crew_id = None
    if crew_name:
        if role != CREW:
            raise click.ClickException("Only --role crew takes --crew.")
        crew = db.session.execute(
            select(Crew.id, Crew.department_id, Department.code)
            .join(Department, Department.id == Crew.department_id)
            .where(Crew.name == crew_name)
        ).one_or_none()
        if crew is None:
            known = ", ".join(db.session.scalars(select(Crew.name).order_by(Crew.name)))
            raise click.ClickException(
                f"Unknown crew {crew_name!r}; known crews: {known or 'none yet'}."
            )
        if department_id is not None and department_id != crew.department_id:
            raise click.ClickException(
                f"Crew {crew_name!r} belongs to department {crew.code}, not {department_code}."
            )
        crew_id, department_id = crew.id, crew.department_id
    password = _read_password()
    try:
        # the admin pages' verb: the account and its audit entry are stored together
        user = accounts.create_account(
            email=email,
            password=password,
            role=role,
            name=name,
            department_id=department_id,
            crew_id=crew_id,
            actor=audit.COMMAND_LINE,
        )
    except DomainError as err:  # raised before anything is written
        raise click.ClickException(err.message) from None
    db.session.commit()
    click.echo(f"Created {user.role} {user.email}")


@users_cli.command("set-password")
@click.option("--email", required=True, help="Sign-in email of the account.")
@with_appcontext
def set_password_cmd(email: str) -> None:
    """Give an account a new password, read from standard input; its API tokens end."""
    user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise click.ClickException(f"There is no account for {email}.")
    try:
        accounts.set_password(user, _read_password(), actor=audit.COMMAND_LINE)
    except DomainError as err:  # raised before anything is written
        raise click.ClickException(err.message) from None
    db.session.commit()
    note = "" if user.active else " (the account is deactivated: it still cannot sign in)"
    click.echo(f"Set a new password for {user.role} {user.email}{note}")


@users_cli.command("list")
@with_appcontext
def list_cmd() -> None:
    """List staff accounts: email, role, department, crew, active."""
    users = db.session.scalars(select(User).order_by(User.role, User.email)).all()
    rows = [
        (
            u.email,
            u.role,
            u.department.code if u.department else "-",
            u.crew.name if u.crew else "-",
            "yes" if u.active else "no",
        )
        for u in users
    ]
    header = ("email", "role", "department", "crew", "active")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        click.echo("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())
    if not rows:
        click.echo("No accounts yet: flask users create --email … --role admin", err=True)


@users_cli.command("deactivate")
@click.option("--email", required=True)
@with_appcontext
def deactivate_cmd(email: str) -> None:
    """Deactivate an account: its sessions and API tokens stop working at once."""
    user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise click.ClickException(f"There is no account for {email}.")
    if not user.active:
        click.echo(f"{user.email} was already deactivated.")
        return
    try:
        # the admin pages' verb: audited, and it keeps the last active admin
        accounts.change_user(user, active=False, actor=audit.COMMAND_LINE)
    except DomainError as err:  # raised before anything is written
        raise click.ClickException(err.message) from None
    db.session.commit()
    click.echo(f"Deactivated {user.role} {user.email}")
