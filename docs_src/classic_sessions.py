from typing import Any

from ketch import Ketch, csrf_exempt, flash, redirect, render_template, request, session, url_for

app = Ketch(__name__)
app.config["SECRET_KEY"] = "change me: a long random string"


@app.route("/login", methods=["GET", "POST"])
def login() -> Any:
    if request.method == "POST":  # a form post: ketch has checked its CSRF token already
        session["user"] = request.form["username"]
        flash(f"Welcome, {session['user']}!")
        return redirect(url_for("profile"))
    return render_template("login.html")


@app.route("/profile")
def profile() -> str:
    user = session.get("user")
    return render_template("profile.html") if user else "not logged in"


@app.route("/logout", methods=["POST"])
def logout() -> Any:
    session.clear()
    return redirect(url_for("login"))


@app.route("/hooks/payment", methods=["POST"])
@csrf_exempt  # another server calls this; it proves who it is in its own way
def payment_hook() -> dict[str, bool]:
    return {"received": True}
