"""ketch's classic face with the default for a sync view: its request sequence runs on the thread pool, one hop per
request, as under a WSGI server. The same code as ``flask.py`` with ``ketch`` imports; ``ketch_classic`` declares the
view non-blocking instead."""

from __future__ import annotations

from typing import Any

from ketch import Ketch
from ketch.globals import request, session
from ketch.helpers import render_template

from ._shared import SECRET, TEMPLATES

__all__ = ["app", "session_cookie"]

LABEL = "ketch (classic, view on the thread pool)"
KIND = "asgi"
ROLE = "ketch"
DISTRIBUTION = "ketch"
SCENARIOS = ("classic",)
MISSING = {
    "plaintext": "same code as ketch",
    "json": "same code as ketch",
    "items": "the typed face is a separate app (ketch_typed)",
    "users": "the typed face is a separate app (ketch_typed)",
    "deps": "the typed face is a separate app (ketch_typed)",
    "deps_sync": "the typed face is a separate app (ketch_typed)",
}
SERVERS = ("uvicorn",)

app = Ketch(__name__, template_folder=TEMPLATES)
app.secret_key = SECRET


@app.route("/classic")
def classic() -> Any:
    return render_template("hello.html", name=request.args.get("name", "stranger"), user=session.get("user"))


def session_cookie() -> str:
    serializer = app.session_interface.get_signing_serializer(app)
    return "session=" + str(serializer.dumps({"user": "ada"}))
