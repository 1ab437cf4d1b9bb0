from pathlib import Path

from ketch import FileResponse, HTMLResponse, Ketch, Request, StaticFiles

STATIC = Path(__file__).parent / "static"

app = Ketch()

# /static/style.css serves static/style.css; nothing outside the folder is ever served.
app.mount("/static", StaticFiles(directory=STATIC), name="static")

# HTML mode: /site/ serves site/index.html, a miss serves site/404.html with status 404.
app.mount("/site", StaticFiles(directory=STATIC / "site", html=True), name="site")

# A folder inside an installed package, found wherever the package is installed.
app.mount("/assets", StaticFiles(packages=[("docs_src", "static")]), name="assets")


@app.get("/")
async def home(request: Request) -> HTMLResponse:
    css = request.url_for("static", path="style.css")
    return HTMLResponse(f'<link rel="stylesheet" href="{css}"><a href="/report">Report</a>')


@app.get("/report")
async def report() -> FileResponse:
    # Sent in chunks off the event loop, with ETag, Last-Modified, Range and 304 support.
    return FileResponse(STATIC / "report.txt", filename="report.txt")
