from ketch import Ketch, render_template, render_template_string

app = Ketch(__name__)  # templates come from the "templates" folder next to this module


@app.context_processor
def site() -> dict[str, str]:
    return {"site_name": "Example"}


@app.template_filter("shout")
def shout(text: str) -> str:
    return text.upper()


@app.route("/hello/<name>")
def hello(name: str) -> str:
    return render_template("hello.html", name=name)


@app.route("/inline")
def inline() -> str:
    return render_template_string("<p>{{ html }}</p>", html="<b>escaped</b>")
