"""The showcase's /docs, /redoc and /scalar render fully in headless Chromium with the network off: every
operation is listed, and no request leaves 127.0.0.1.

The showcase runs under uvicorn on 127.0.0.1 (a free port); Chromium (Debian's package; ``.ci/run`` installs it)
resolves every other host to nothing, and the DevTools protocol records every request the page makes. Skipped when
Chromium is not installed.
"""

import json
import os
import shutil
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")

# What each UI shows once it has read the document: the API's title and every operation's path (ReDoc and Scalar
# render the operations' own sections lazily, as they scroll into view; their overviews list every path).
EXPECTED = ("ketch showcase", "/api/health", "/api/notes", "/api/notes/{note_id}", "/api/stats")


LOCAL = ("data:", "blob:", "about:")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    import uvicorn

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("KETCH_SHOWCASE_DB", str(tmp_path_factory.mktemp("showcase") / "notes.sqlite3"))
        from examples.showcase.app import app

        config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
        uv = uvicorn.Server(config)
        thread = threading.Thread(target=uv.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 10
        while not uv.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.02)
        port = uv.servers[0].sockets[0].getsockname()[1]
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            uv.should_exit = True
            thread.join(10)


class DevTools:
    """A minimal DevTools protocol client over one page's WebSocket: commands, and the events seen so far."""

    def __init__(self, socket: Any) -> None:
        self.socket = socket
        self.next_id = 0
        self.events: list[dict[str, Any]] = []

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        self.socket.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv(timeout=30))
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})  # type: ignore[no-any-return]
            self.events.append(message)

    def evaluate(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return result.get("result", {}).get("value")


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    assert CHROMIUM is not None
    profile = tmp_path_factory.mktemp("chromium-profile")
    process = subprocess.Popen(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--disable-default-apps",
            "--no-first-run",
            "--no-default-browser-check",
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
            f"--user-data-dir={profile}",
            "--remote-debugging-address=127.0.0.1",
            "--remote-debugging-port=0",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "HOME": str(profile)},
    )
    try:
        port_file = Path(profile) / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not (port_file.exists() and port_file.read_text().strip()):
            assert process.poll() is None, "chromium exited"
            assert time.monotonic() < deadline, "chromium did not start its DevTools server"
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port_file.read_text().split()[0]}"
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


@contextmanager
def open_page(browser: str) -> Iterator[DevTools]:
    from websockets.sync.client import connect

    request = urllib.request.Request(f"{browser}/json/new?about:blank", method="PUT")
    with urllib.request.urlopen(request, timeout=10) as answer:
        target = json.load(answer)
    with connect(target["webSocketDebuggerUrl"], max_size=None, open_timeout=10) as socket:
        yield DevTools(socket)


@pytest.mark.timeout(90)
@pytest.mark.parametrize("page", ["/docs", "/redoc", "/scalar"])
def test_docs_ui_renders_offline(server: str, browser: str, page: str) -> None:
    with open_page(browser) as tools:
        tools.call("Network.enable")
        tools.call("Page.enable")
        tools.call("Page.navigate", url=server + page)
        deadline = time.monotonic() + 45
        text = ""
        while time.monotonic() < deadline:
            text = tools.evaluate("document.body ? document.body.innerText : ''") or ""
            if all(item in text for item in EXPECTED):
                break
            time.sleep(0.25)
        missing = [item for item in EXPECTED if item not in text]
        assert not missing, f"{page} does not list {missing}; it shows: {text[:1500]!r}"
        tools.evaluate("1")  # collect the events that arrived meanwhile
        urls = [e["params"]["request"]["url"] for e in tools.events if e.get("method") == "Network.requestWillBeSent"]
        assert any(url.startswith(server + "/openapi.json") for url in urls), urls
        failures = [event["params"] for event in tools.events if event.get("method") == "Network.loadingFailed"]
        # A load the page's Content-Security-Policy refuses is stopped in the browser: it never leaves.
        refused = {failure["requestId"] for failure in failures if failure.get("blockedReason") == "csp"}
        sent = [
            event["params"]
            for event in tools.events
            if event.get("method") == "Network.requestWillBeSent" and event["params"]["requestId"] not in refused
        ]
        outside = [r["request"]["url"] for r in sent if not r["request"]["url"].startswith(LOCAL + (server + "/",))]
        assert outside == [], f"{page} asked for {outside}"
        failed = [failure for failure in failures if failure["requestId"] not in refused]
        assert failed == [], f"{page}: requests failed: {failed}"
