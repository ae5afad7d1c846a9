"""`flask users ...`: manage accounts from the shell."""
import click
from flask.cli import with_appcontext
from sqlalchemy import select

from app.extensions import db
from app.models import Role, User


@click.group("users")
def users_cli() -> None:
    """Create and list user accounts."""


@users_cli.command("create")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--shopper-code", default=None, help="Code shown on reports instead of the shopper's name.")
@click.password_option()
@with_appcontext
def create_user(email: str, name: str, role: str, shopper_code: str | None, password: str) -> None:
    """Create a user account."""
    email = email.strip().lower()
    if db.session.scalar(select(User).where(User.email == email)):
        raise click.ClickException(f"a user with email {email} already exists")
    if len(password) < 10:
        raise click.ClickException("the password must have at least 10 characters")
    user = User(email=email, name=name, role=Role(role), shopper_code=shopper_code)
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    click.echo(f"created {role} {email}")


@users_cli.command("list")
@with_appcontext
def list_users() -> None:
    """List every account."""
    for user in db.session.scalars(select(User).order_by(User.role, User.email)):
        state = "" if user.active else " (deactivated)"
        click.echo(f"{user.role.value:8} {user.email} {user.name}{state}")
