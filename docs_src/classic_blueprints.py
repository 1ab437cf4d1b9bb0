from typing import Any

import click

from ketch import Blueprint, Ketch, abort, g

admin = Blueprint("admin", __name__, url_prefix="/admin")


@admin.before_request
def only_admins() -> None:
    if g.get("user") != "root":
        abort(403)


@admin.route("/")
def dashboard() -> str:
    return "admin dashboard"


@admin.errorhandler(403)
def forbidden(error: Exception) -> tuple[str, int]:
    return "admins only", 403


@admin.cli.command("grant")
@click.argument("name")
def grant(name: str) -> None:
    """Make NAME an admin."""
    click.echo(f"{name} is now an admin")


def create_app(config: dict[str, Any] | None = None) -> Ketch:
    app = Ketch(__name__)
    app.config.from_mapping(SECRET_KEY="dev", USERS=["root"])
    app.config.update(config or {})

    @app.before_request
    def load_user() -> None:
        from ketch import request

        g.user = request.headers.get("X-User")

    @app.route("/")
    def index() -> str:
        return "public page"

    @app.cli.command("init-db")
    def init_db() -> None:
        """Create the tables."""
        from ketch import current_app

        click.echo(f"initialised the database of {current_app.name}")

    app.register_blueprint(admin)
    return app
