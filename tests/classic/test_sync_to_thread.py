"""``@app.route(..., sync_to_thread=False)``: a classic route's request sequence on the event loop."""

from __future__ import annotations

import threading
from typing import Any

from ketch import Ketch
from ketch.blueprints import Blueprint
from ketch.globals import g, request, session
from ketch.helpers import abort


def _app() -> Ketch:
    app = Ketch(__name__)
    app.secret_key = "test"
    seen: dict[str, int] = {}
    app.config["SEEN"] = seen

    @app.before_request
    def before() -> None:
        g.before = threading.get_ident()

    @app.route("/loop")
    async def loop_thread() -> str:
        seen["loop"] = threading.get_ident()
        return "ok"

    @app.route("/on-loop", sync_to_thread=False)
    def on_loop() -> dict[str, Any]:
        seen["view"] = threading.get_ident()
        seen["before"] = g.before
        session["visits"] = session.get("visits", 0) + 1
        return {"name": request.args.get("name"), "visits": session["visits"]}

    @app.route("/pooled")
    def pooled() -> str:
        seen["pooled"] = threading.get_ident()
        return "pooled"

    @app.route("/missing", sync_to_thread=False)
    def missing() -> str:
        abort(404)

    bp = Blueprint("bp", __name__, url_prefix="/bp")

    @bp.route("/here", sync_to_thread=False)
    def here() -> str:
        seen["bp"] = threading.get_ident()
        return "bp"

    app.register_blueprint(bp)
    return app


def test_view_and_hooks_run_on_the_loop_with_contexts_and_session() -> None:
    app = _app()
    seen = app.config["SEEN"]
    client = app.test_client()
    client.get("/loop")
    first = client.get("/on-loop?name=ada")
    assert first.get_json() == {"name": "ada", "visits": 1}
    assert client.get("/on-loop").get_json() == {"name": None, "visits": 2}  # the session cookie was saved
    assert seen["view"] == seen["loop"] == seen["before"]
    assert client.get("/pooled").data == b"pooled"
    assert seen["pooled"] != seen["loop"]
    assert client.get("/bp/here").data == b"bp"
    assert seen["bp"] == seen["loop"]


def test_errors_from_an_on_loop_view_render_as_usual() -> None:
    response = _app().test_client().get("/missing")
    assert response.status_code == 404
    assert b"Not Found" in response.data
