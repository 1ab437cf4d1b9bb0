"""The benchmark apps: one module per framework, found by name, so adding a framework is adding one file.

Each app module defines:

- ``LABEL``: the name shown in the tables.
- ``KIND``: ``"asgi"`` or ``"wsgi"``.
- ``ROLE``: ``"floor"`` (raw ASGI/WSGI), ``"ketch"`` (a ketch variant, checked against the targets) or
  ``"peer"``.
- ``DISTRIBUTION``: the PyPI name whose version is reported (``None`` for the raw floors).
- ``SCENARIOS``: the scenario names it serves (see ``bench/scenarios.py``); ``MISSING``: ``{scenario: why not}``.
- ``SERVERS``: the servers it is run on end to end (``uvicorn``, ``granian``, ``gunicorn``).
- ``app``: the ASGI or WSGI callable; ``APPS``: ``{scenario: attribute}`` when a scenario needs another app
  object (so, for instance, session middleware does not sit in front of the plaintext route).
- optionally ``session_cookie()``: the ``Cookie`` header of the ``classic`` scenario, signed by the framework's
  own machinery; ``many_routes(n)``: an app with ``n`` routes, for the start-up measurement; and
  ``STOPGAP = True`` on a ketch app that the targets use only when no other ketch app covers a scenario.

Modules whose name starts with ``_`` are shared helpers, not apps.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

__all__ = ["AppSpec", "app_names", "load"]

HERE = Path(__file__).resolve().parent
# Table order: floors first, then ketch, then the peers alphabetically.
_ROLE_ORDER = {"floor": 0, "ketch": 1, "peer": 2}


@dataclass(frozen=True)
class AppSpec:
    """What the harness needs to know about one app module."""

    name: str
    module: ModuleType

    @property
    def label(self) -> str:
        return str(self.module.LABEL)

    @property
    def kind(self) -> str:
        return str(self.module.KIND)

    @property
    def role(self) -> str:
        return str(self.module.ROLE)

    @property
    def distribution(self) -> str | None:
        return getattr(self.module, "DISTRIBUTION", None)

    @property
    def scenarios(self) -> tuple[str, ...]:
        return tuple(self.module.SCENARIOS)

    @property
    def missing(self) -> dict[str, str]:
        return dict(getattr(self.module, "MISSING", {}))

    @property
    def servers(self) -> tuple[str, ...]:
        return tuple(getattr(self.module, "SERVERS", ()))

    @property
    def stopgap(self) -> bool:
        return bool(getattr(self.module, "STOPGAP", False))

    @property
    def floor(self) -> str:
        """The raw app this one is compared with."""
        return "raw_wsgi" if self.kind == "wsgi" else "raw_asgi"

    def attribute(self, scenario: str) -> str:
        """The module attribute holding the app that serves ``scenario``."""
        return str(getattr(self.module, "APPS", {}).get(scenario, "app"))

    def app_for(self, scenario: str) -> Any:
        return getattr(self.module, self.attribute(scenario))

    def cookie(self) -> str | None:
        maker = getattr(self.module, "session_cookie", None)
        return maker() if maker is not None else None


def app_names() -> list[str]:
    """Every app module in table order, without importing them (peers may be missing outside the bench venv)."""
    names = [m.name for m in pkgutil.iter_modules([str(HERE)]) if not m.name.startswith("_")]
    return sorted(names, key=lambda n: (_ROLE_ORDER.get(_role_of(n), 3), n))


def _role_of(name: str) -> str:
    # Read ROLE without importing the module: a peer's import fails where the peer is not installed.
    for line in (HERE / f"{name}.py").read_text().splitlines():
        if line.startswith("ROLE ="):
            return line.split("=", 1)[1].strip().strip("\"'")
    return "peer"


def load(name: str) -> AppSpec:
    """Import ``apps.<name>`` (``bench/`` must be on ``sys.path``)."""
    return AppSpec(name, importlib.import_module(f"{__name__}.{name}"))
