from ketch import Blueprint, Ketch, url_for

app = Ketch(__name__)
app.config["SERVER_NAME"] = "example.com"


@app.route("/")
def home() -> str:
    return "home: " + url_for("docs.page", name="intro")


@app.route("/", subdomain="<team>")
def team_home(team: str) -> str:
    return f"team {team}: " + url_for("home")


docs = Blueprint("docs", __name__, subdomain="docs")


@docs.route("/<name>")
def page(name: str) -> str:
    return f"docs page {name}"


app.register_blueprint(docs)
