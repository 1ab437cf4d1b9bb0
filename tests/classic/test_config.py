"""``app.config``: Flask's loaders, settings backed by config, and the settings wired into ketch."""

from __future__ import annotations

import json
import os
import tomllib
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from ketch import Ketch
from ketch.config import Config, import_string
from ketch.globals import request
from ketch.testclient import TestClient


class Settings:
    DEBUG = True
    SECRET_KEY = "from-object"
    lower_case = "ignored"


def test_from_object_and_import_string() -> None:
    config = Config()
    config.from_object(Settings)
    assert config == {"DEBUG": True, "SECRET_KEY": "from-object"}
    config.from_object("tests.classic.test_config.Settings")
    assert config["SECRET_KEY"] == "from-object"
    assert import_string("tests.classic.test_config:Settings") is Settings
    assert import_string("os.path") is os.path
    with pytest.raises(ImportError):
        import_string("tests.classic.test_config.Missing")


def test_from_pyfile(tmp_path: Path) -> None:
    (tmp_path / "settings.py").write_text("import os\nSECRET_KEY = 'file'\nVALUE = 40 + 2\nhelper = 1\n")
    config = Config(tmp_path)
    assert config.from_pyfile("settings.py")
    assert config == {"SECRET_KEY": "file", "VALUE": 42}
    assert not config.from_pyfile("missing.py", silent=True)
    with pytest.raises(OSError, match="Unable to load configuration file"):
        config.from_pyfile("missing.py")


def test_from_file_json_and_toml(tmp_path: Path) -> None:
    (tmp_path / "c.json").write_text(json.dumps({"A": 1, "b": 2}))
    (tmp_path / "c.toml").write_text('B = "two"\n')
    config = Config(tmp_path)
    config.from_file("c.json", load=json.load)
    config.from_file("c.toml", load=tomllib.load, text=False)
    assert config == {"A": 1, "B": "two"}
    assert not config.from_file("nope.json", load=json.load, silent=True)


def test_from_mapping_and_namespace() -> None:
    config = Config()
    config.from_mapping({"IMAGE_STORE_TYPE": "fs", "lower": 1}, IMAGE_STORE_PATH="/var", OTHER=3)
    assert "lower" not in config
    assert config.get_namespace("IMAGE_STORE_") == {"type": "fs", "path": "/var"}
    assert config.get_namespace("IMAGE_STORE_", lowercase=False, trim_namespace=False) == {
        "IMAGE_STORE_TYPE": "fs",
        "IMAGE_STORE_PATH": "/var",
    }


def test_from_prefixed_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KETCH_SECRET_KEY", "env-secret")
    monkeypatch.setenv("KETCH_DEBUG", "true")
    monkeypatch.setenv("KETCH_PORT", "8000")
    monkeypatch.setenv("KETCH_DB__HOST", "localhost")
    monkeypatch.setenv("KETCH_DB__PORT", "5432")
    monkeypatch.setenv("OTHER_X", "1")
    config = Config()
    config.from_prefixed_env()
    assert config == {
        "SECRET_KEY": "env-secret",
        "DEBUG": True,
        "PORT": 8000,
        "DB": {"HOST": "localhost", "PORT": 5432},
    }
    monkeypatch.setenv("FLASK_KEY", "1")
    config.from_prefixed_env("FLASK")
    assert config["KEY"] == 1


def test_from_envvar(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "s.py").write_text("X = 1\n")
    config = Config()
    monkeypatch.delenv("APP_SETTINGS", raising=False)
    assert not config.from_envvar("APP_SETTINGS", silent=True)
    with pytest.raises(RuntimeError, match="APP_SETTINGS"):
        config.from_envvar("APP_SETTINGS")
    monkeypatch.setenv("APP_SETTINGS", str(tmp_path / "s.py"))
    assert config.from_envvar("APP_SETTINGS") and config["X"] == 1


def test_app_attributes_are_backed_by_config() -> None:
    app = Ketch(__name__, debug=True)
    assert app.config["DEBUG"] is True and app.debug
    app.config["DEBUG"] = False
    assert not app.debug
    app.testing = True
    assert app.config["TESTING"] is True
    app.secret_key = "s"
    assert app.config["SECRET_KEY"] == "s"
    app.config["PERMANENT_SESSION_LIFETIME"] = 60
    assert app.permanent_session_lifetime == timedelta(seconds=60)
    assert app.name == __name__
    assert Ketch().name == "ketch"


def test_instance_folder(tmp_path: Path) -> None:
    app = Ketch(__name__)
    assert app.instance_path.endswith("instance")
    with pytest.raises(ValueError, match="absolute"):
        Ketch(__name__, instance_path="relative")
    (tmp_path / "settings.py").write_text("FROM_INSTANCE = 1\n")
    app = Ketch(__name__, instance_path=str(tmp_path), instance_relative_config=True)
    app.config.from_pyfile("settings.py")
    assert app.config["FROM_INSTANCE"] == 1
    with app.open_instance_resource("settings.py", "r") as handle:
        assert "FROM_INSTANCE" in handle.read()


def upload_app(**config: Any) -> Ketch:
    app = Ketch(__name__)
    app.config.update(CSRF_ENABLED=False, **config)

    @app.route("/upload", methods=["POST"])
    def upload() -> str:
        return str(len(request.form) if request.form else len(request.get_data()))

    return app


@pytest.mark.timeout(10)
def test_max_content_length_is_the_body_limit() -> None:
    client = TestClient(upload_app(MAX_CONTENT_LENGTH=100), raise_server_exceptions=False)
    assert client.post("/upload", content=b"x" * 100).text == "100"
    response = client.post("/upload", content=b"x" * 101)
    assert response.status_code == 413
    assert "<title>413 Request Entity Too Large</title>" in response.text

    def chunks() -> Any:
        yield b"x" * 80
        yield b"x" * 80

    assert client.post("/upload", content=chunks()).status_code == 413


@pytest.mark.timeout(10)
def test_max_form_parts() -> None:
    client = TestClient(upload_app(MAX_FORM_PARTS=3), raise_server_exceptions=False)
    assert client.post("/upload", data={"a": "1", "b": "2"}).text == "2"
    assert client.post("/upload", data={str(i): "x" for i in range(10)}).status_code in (400, 413)
