"""ketch's classic face, written as Flask's docs would be: ``@app.route`` views, ``request.args``, the signed-cookie
``session`` and ``render_template``. The same code as ``flask.py`` with ``ketch`` imports, except that the view,
which never blocks, says so (``sync_to_thread=False``, as ketch's docs advise): its request sequence runs on the event
loop. ``ketch_classic_pool`` measures the same view on the thread pool (the default)."""

from __future__ import annotations

from typing import Any

from ketch import Ketch
from ketch.globals import request, session
from ketch.helpers import render_template

from ._shared import SECRET, TEMPLATES

__all__ = ["app", "session_cookie"]

LABEL = "ketch (classic)"
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


@app.route("/classic", sync_to_thread=False)
def classic() -> Any:
    return render_template("hello.html", name=request.args.get("name", "stranger"), user=session.get("user"))


def session_cookie() -> str:
    serializer = app.session_interface.get_signing_serializer(app)
    return "session=" + str(serializer.dumps({"user": "ada"}))
