"""Routes, return values, hooks and errors: the same app on Flask and on ketch answers alike."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from tests.classic._diff import Req, compare


def returns_app(f: SimpleNamespace) -> Any:
    app = f.Flask(__name__)

    @app.route("/str")
    def text() -> Any:
        return "<b>hi</b>"

    @app.route("/bytes")
    def raw() -> Any:
        return b"raw bytes"

    @app.route("/dict")
    def mapping() -> Any:
        return {"b": 1, "a": [1, 2, {"z": None, "y": "é"}]}

    @app.route("/list")
    def sequence() -> Any:
        return [3, "x"]

    @app.route("/status")
    def with_status() -> Any:
        return "created", 201

    @app.route("/status-text")
    def with_status_text() -> Any:
        return "teapot", "418 I'M A TEAPOT"

    @app.route("/headers")
    def with_headers() -> Any:
        return "h", {"X-Thing": "1", "Content-Type": "text/plain"}

    @app.route("/header-list")
    def with_header_list() -> Any:
        return "h", [("X-A", "1"), ("X-A", "2")]

    @app.route("/three")
    def three() -> Any:
        return {"ok": True}, 202, {"X-Three": "3"}

    @app.route("/response")
    def response() -> Any:
        return f.Response("plain", status=203, mimetype="text/plain")

    @app.route("/response-tuple")
    def response_tuple() -> Any:
        return f.Response("r"), 404

    @app.route("/generator")
    def generator() -> Any:
        def gen() -> Any:
            yield "a"
            yield b"b"
            yield "c"

        return gen()

    @app.route("/stream")
    def stream() -> Any:
        return f.Response((str(i) for i in range(3)), mimetype="text/csv")

    @app.route("/make")
    def make() -> Any:
        response = f.make_response("made", 206)
        response.headers["X-Made"] = "yes"
        return response

    @app.route("/make-dict")
    def make_dict() -> Any:
        return f.make_response({"k": "v"})

    @app.route("/jsonify")
    def jsonified() -> Any:
        return f.jsonify(b=2, a=1)

    @app.route("/jsonify-list")
    def jsonified_list() -> Any:
        return f.jsonify(1, 2, "three")

    @app.route("/none")
    def nothing() -> Any:
        return None

    @app.route("/bad-tuple")
    def bad_tuple() -> Any:
        return "a", 200, {}, "extra"

    @app.route("/async")
    async def asynchronous() -> Any:
        return {"async": True}

    return app


@pytest.mark.parametrize(
    "path",
    [
        "/str",
        "/bytes",
        "/dict",
        "/list",
        "/status",
        "/status-text",
        "/headers",
        "/header-list",
        "/three",
        "/response",
        "/response-tuple",
        "/generator",
        "/stream",
        "/make",
        "/make-dict",
        "/jsonify",
        "/jsonify-list",
        "/none",
        "/bad-tuple",
        "/async",
    ],
)
def test_return_conventions(path: str) -> None:
    compare(returns_app, [Req("GET", path)])


def test_return_value_headers_reach_the_client() -> None:
    results = compare(returns_app, [Req("GET", "/three"), Req("GET", "/make")])
    assert results[0]["status"] == 202


def routing_app(f: SimpleNamespace) -> Any:
    app = f.Flask(__name__)

    @app.route("/")
    def index() -> Any:
        return "index"

    @app.route("/user/<name>")
    def user(name: str) -> Any:
        return f"user {name}"

    @app.route("/post/<int:post_id>")
    def post(post_id: int) -> Any:
        return {"id": post_id, "type": type(post_id).__name__}

    @app.route("/price/<float:value>")
    def price(value: float) -> Any:
        return {"value": value}

    @app.route("/files/<path:subpath>")
    def files(subpath: str) -> Any:
        return subpath

    @app.route("/uuid/<uuid:ident>")
    def by_uuid(ident: Any) -> Any:
        return str(ident)

    @app.route("/projects/")
    def projects() -> Any:
        return "projects"

    @app.route("/about")
    def about() -> Any:
        return "about"

    @app.route("/loose/", strict_slashes=False)
    def loose() -> Any:
        return "loose"

    @app.route("/form", methods=["GET", "POST"])
    def form() -> Any:
        if f.request.method == "POST":
            return f"posted {f.request.form['name']}"
        return "form"

    @app.route("/only-post", methods=["POST"])
    def only_post() -> Any:
        return "posted"

    @app.route("/users/", defaults={"page": 1})
    @app.route("/users/page/<int:page>")
    def users(page: int) -> Any:
        return f"page {page}"

    def named_view() -> Any:
        return "named"

    app.add_url_rule("/named", "custom_endpoint", named_view)

    @app.route("/ep", endpoint="other_name")
    def endpoint_view() -> Any:
        return f.url_for("other_name")

    @app.route("/urls")
    def urls() -> Any:
        return {
            "index": f.url_for("index"),
            "user": f.url_for("user", name="a b/c"),
            "post": f.url_for("post", post_id=42, q="x y", many=["1", "2"]),
            "external": f.url_for("post", post_id=1, _external=True),
            "anchor": f.url_for("index", _anchor="top section"),
            "users1": f.url_for("users"),
            "users2": f.url_for("users", page=2),
            "named": f.url_for("custom_endpoint"),
            "static": f.url_for("static", filename="css/site.css"),
        }

    @app.route("/build-error")
    def build_error() -> Any:
        try:
            f.url_for("nope")
        except Exception as exc:
            return type(exc).__name__ + " " + ("LookupError" if isinstance(exc, LookupError) else "")
        return "built"

    return app


@pytest.mark.parametrize(
    "method,path",
    [
        ("GET", "/"),
        ("GET", "/user/ann"),
        ("GET", "/user/caf%C3%A9"),
        ("GET", "/post/7"),
        ("GET", "/post/x"),
        ("GET", "/post/-1"),
        ("GET", "/price/1.5"),
        ("GET", "/files/a/b/c.txt"),
        ("GET", "/uuid/12345678-1234-5678-1234-567812345678"),
        ("GET", "/uuid/nope"),
        ("GET", "/projects/"),
        ("GET", "/projects"),
        ("GET", "/projects?x=1"),
        ("GET", "/about"),
        ("GET", "/about/"),
        ("GET", "/loose/"),
        ("GET", "/loose"),
        ("GET", "/form"),
        ("DELETE", "/form"),
        ("GET", "/only-post"),
        ("HEAD", "/"),
        ("GET", "/users/"),
        ("GET", "/users/page/3"),
        ("GET", "/named"),
        ("GET", "/ep"),
        ("GET", "/urls"),
        ("GET", "/build-error"),
        ("GET", "/nowhere"),
        ("POST", "/nowhere"),
    ],
)
def test_routing(method: str, path: str) -> None:
    compare(routing_app, [Req(method, path)])


def test_form_post() -> None:
    compare(routing_app, [Req("POST", "/form", data={"name": "ann"}), Req("POST", "/only-post")])


def test_missing_form_key_is_400() -> None:
    results = compare(routing_app, [Req("POST", "/form", data={"other": "x"})])
    assert results[0]["status"] == 400


def errors_app(f: SimpleNamespace) -> Any:
    app = f.Flask(__name__)

    class AppError(Exception):
        pass

    class SubError(AppError):
        pass

    @app.route("/abort/<int:code>")
    def do_abort(code: int) -> Any:
        f.abort(code)

    @app.route("/abort-description")
    def abort_description() -> Any:
        f.abort(403, "Not <yours>")

    @app.route("/abort-response")
    def abort_response() -> Any:
        f.abort(f.make_response("custom body", 409))

    @app.route("/app-error")
    def app_error() -> Any:
        raise AppError("boom")

    @app.route("/sub-error")
    def sub_error() -> Any:
        raise SubError("sub")

    @app.route("/crash")
    def crash() -> Any:
        raise RuntimeError("unhandled")

    @app.errorhandler(404)
    def not_found(error: Any) -> Any:
        return f"custom 404 for {f.request.path}", 404

    @app.errorhandler(AppError)
    def handle_app_error(error: Any) -> Any:
        return {"error": type(error).__name__, "message": str(error)}, 400

    @app.errorhandler(410)
    def gone(error: Any) -> Any:
        return f.jsonify(code=error.code if hasattr(error, "code") else error.status_code), 410

    @app.after_request
    def mark(response: Any) -> Any:
        response.headers["X-After"] = "1"
        return response

    return app


@pytest.mark.parametrize(
    "path",
    [
        "/abort/400",
        "/abort/401",
        "/abort/403",
        "/abort/404",
        "/abort/405",
        "/abort/409",
        "/abort/410",
        "/abort/413",
        "/abort/418",
        "/abort/429",
        "/abort/500",
        "/abort/503",
        "/abort-description",
        "/abort-response",
        "/app-error",
        "/sub-error",
        "/crash",
        "/not-a-route",
    ],
)
def test_errors(path: str) -> None:
    compare(errors_app, [Req("GET", path)])


def test_after_request_runs_on_error_responses() -> None:
    from tests.classic._diff import run

    flask_results, ketch_results = run(errors_app, [Req("GET", "/abort/403"), Req("GET", "/crash")])
    assert [r["status"] for r in ketch_results] == [403, 500]
    assert flask_results[0]["status"] == 403


def hooks_app(f: SimpleNamespace) -> Any:
    app = f.Flask(__name__)
    app.config["SECRET_KEY"] = "secret"
    calls: list[str] = []
    app.config["CALLS"] = calls

    @app.url_value_preprocessor
    def pull_lang(endpoint: Any, values: Any) -> None:
        calls.append(f"preprocess {endpoint}")
        if values and "lang" in values:
            f.g.lang = values.pop("lang")

    @app.url_defaults
    def add_lang(endpoint: str, values: dict[str, Any]) -> None:
        if "lang" in values or not hasattr(f.g, "lang"):
            return
        values.setdefault("lang", f.g.lang)

    @app.before_request
    def first() -> Any:
        calls.append("before1")
        if f.request.args.get("stop"):
            return "stopped early", 202
        return None

    @app.before_request
    def second() -> None:
        calls.append("before2")

    @app.after_request
    def after_one(response: Any) -> Any:
        calls.append("after1")
        response.headers["X-Order"] = response.headers.get("X-Order", "") + "1"
        return response

    @app.after_request
    def after_two(response: Any) -> Any:
        calls.append("after2")
        response.headers["X-Order"] = response.headers.get("X-Order", "") + "2"
        return response

    @app.teardown_request
    def teardown(error: Any) -> None:
        calls.append(f"teardown {type(error).__name__ if error else None}")

    @app.teardown_appcontext
    def teardown_app(error: Any) -> None:
        calls.append("teardown_app")

    @app.route("/<lang>/page")
    def page() -> Any:
        @f.after_this_request
        def later(response: Any) -> Any:
            calls.append("after_this_request")
            response.headers["X-Later"] = "yes"
            return response

        return {"lang": f.g.lang, "url": f.url_for("page")}

    @app.route("/calls")
    def show_calls() -> Any:
        return {"calls": list(calls)}

    @app.route("/reset")
    def reset() -> Any:
        calls.clear()
        return "reset"

    return app


def test_hook_order() -> None:
    results = compare(
        hooks_app,
        [
            Req("GET", "/reset"),
            Req("GET", "/en/page"),
            Req("GET", "/calls"),
            Req("GET", "/reset"),
            Req("GET", "/en/page?stop=1"),
            Req("GET", "/calls"),
            Req("GET", "/reset"),
            Req("GET", "/missing"),
            Req("GET", "/calls"),
        ],
    )
    assert results[1]["body"] == b'{"lang":"en","url":"/en/page"}\n'
