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


def _hookless_app(with_hook: bool) -> tuple[Ketch, list[Any]]:
    """An app whose routes have no hooks (the plan's direct path), or the same app with a no-op teardown hook
    (the general path): both must answer and signal alike."""
    from ketch.ctx import after_this_request
    from ketch.signals import appcontext_tearing_down, request_finished, request_started, request_tearing_down

    app = Ketch(__name__)
    app.secret_key = "test"
    log: list[Any] = []
    if with_hook:
        app.teardown_request(lambda exc: None)

    @app.route("/text", sync_to_thread=False)
    def text() -> str:
        session["n"] = session.get("n", 0) + 1
        return f"n={session['n']} q={request.args.get('q')}"

    @app.route("/async")
    async def async_view() -> tuple[str, int]:
        return "async", 201

    @app.route("/after", sync_to_thread=False)
    def after() -> str:
        @after_this_request
        def add_header(response: Any) -> Any:
            response.headers["X-After"] = "yes"
            return response

        return "after"

    @app.route("/abort", sync_to_thread=False)
    def aborted() -> str:
        abort(403)

    @app.route("/handled", sync_to_thread=False)
    def handled() -> str:
        raise KeyError("handled")

    @app.route("/crash", sync_to_thread=False)
    def crash() -> str:
        raise RuntimeError("boom")

    @app.errorhandler(KeyError)
    def key_error(exc: KeyError) -> tuple[str, int]:
        return "key error", 409

    @app.errorhandler(500)
    def server_error(exc: Any) -> tuple[str, int]:
        return f"500: {type(exc.original_exception).__name__}", 500

    def record(name: str) -> Any:
        def receiver(sender: Any, **kwargs: Any) -> None:
            detail = kwargs.get("exc", kwargs.get("response"))
            log.append((name, type(detail).__name__))

        return receiver

    receivers = [record(name) for name in ("started", "finished", "tearing_down", "app_tearing_down")]
    app.config["RECEIVERS"] = receivers  # held: signals keep weak references
    request_started.connect(receivers[0], app)
    request_finished.connect(receivers[1], app)
    request_tearing_down.connect(receivers[2], app)
    appcontext_tearing_down.connect(receivers[3], app)
    return app, log


def test_a_route_without_hooks_answers_and_signals_as_one_with_hooks() -> None:
    results = []
    for with_hook in (False, True):
        app, log = _hookless_app(with_hook)
        app.config["PROPAGATE_EXCEPTIONS"] = False
        client = app.test_client()
        answers = []
        for path in ("/text?q=a", "/text", "/async", "/after", "/abort", "/handled", "/crash"):
            response = client.get(path)
            answers.append((path, response.status_code, response.data, response.headers.get("X-After")))
            answers.append(("vary", response.headers.get("Vary")))
        results.append((answers, log))
    assert results[0] == results[1]
    answers, log = results[0]
    assert answers[0] == ("/text?q=a", 200, b"n=1 q=a", None)
    assert answers[2] == ("/text", 200, b"n=2 q=None", None)
    assert ("/after", 200, b"after", "yes") in answers
    assert ("/handled", 409, b"key error", None) in answers
    assert ("/crash", 500, b"500: RuntimeError", None) in answers
    assert ("tearing_down", "RuntimeError") in log
