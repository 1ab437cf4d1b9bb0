from typing import Any

from ketch import Ketch, abort, g, redirect, request, url_for

app = Ketch(__name__)
app.config["SECRET_KEY"] = "change me"

BOOKS = {1: "Dune", 2: "Emma"}


@app.before_request
def identify() -> None:
    g.reader = request.headers.get("X-Reader", "guest")


@app.route("/")
def index() -> str:
    return f"<h1>Hello, {g.reader}!</h1>"  # a str is an HTML page


@app.route("/books/<int:book_id>")
def book(book_id: int) -> dict[str, Any]:
    if book_id not in BOOKS:
        abort(404)
    return {"id": book_id, "title": BOOKS[book_id]}  # a dict is JSON


@app.route("/books", methods=["GET", "POST"])
def books() -> Any:
    if request.method == "POST":
        book_id = max(BOOKS) + 1
        BOOKS[book_id] = request.get_json()["title"]
        return {"id": book_id}, 201, {"Location": url_for("book", book_id=book_id)}
    return {"titles": [BOOKS[key] for key in sorted(BOOKS)]}


@app.route("/library")
def library() -> Any:
    return redirect(url_for("books"))


@app.errorhandler(404)
def not_found(error: Exception) -> tuple[str, int]:
    return f"<p>No such page: {request.path}</p>", 404


@app.after_request
def served_by(response: Any) -> Any:
    response.headers["X-Served-By"] = "ketch"
    return response


# The typed face in the same app: validated parameters, JSON by default.
@app.get("/api/books/{book_id}")
async def api_book(book_id: int) -> dict[str, Any]:
    return {"id": book_id, "title": BOOKS.get(book_id)}
