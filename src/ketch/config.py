"""``app.config``: a dict of upper-case settings with Flask's loaders.

Only upper-case keys are loaded from objects, files and mappings, so a config module can hold helpers and
imports without them leaking into the settings.
"""

from __future__ import annotations

import errno
import importlib
import json
import os
import types
from collections.abc import Callable, Mapping
from typing import IO, Any, Generic, TypeVar, overload

__all__ = ["Config", "ConfigAttribute", "import_string"]

_T = TypeVar("_T")


def import_string(name: str) -> Any:
    """Import ``"package.module"`` or ``"package.module:attr"`` / ``"package.module.attr"`` and return it."""
    if ":" in name:
        module_name, _, attr = name.partition(":")
        return getattr(importlib.import_module(module_name), attr)
    try:
        return importlib.import_module(name)
    except ImportError:
        module_name, _, attr = name.rpartition(".")
        if not module_name:
            raise
        module = importlib.import_module(module_name)
        try:
            return getattr(module, attr)
        except AttributeError:
            raise ImportError(f"Cannot import {attr!r} from {module_name!r}") from None


class ConfigAttribute(Generic[_T]):
    """An app attribute that reads and writes one config key (``app.testing`` is ``config["TESTING"]``)."""

    def __init__(self, name: str, get_converter: Callable[[Any], _T] | None = None) -> None:
        self.__name__ = name
        self.get_converter = get_converter

    @overload
    def __get__(self, obj: None, owner: type | None = None) -> ConfigAttribute[_T]: ...

    @overload
    def __get__(self, obj: object, owner: type | None = None) -> _T: ...

    def __get__(self, obj: object | None, owner: type | None = None) -> Any:
        if obj is None:
            return self
        value = obj.config[self.__name__]  # type: ignore[attr-defined]
        return self.get_converter(value) if self.get_converter is not None else value

    def __set__(self, obj: object, value: Any) -> None:
        obj.config[self.__name__] = value  # type: ignore[attr-defined]


class Config(dict[str, Any]):
    """Settings as a dict, with loaders for objects, Python files, data files, mappings and the environment.

    Args:
        root_path: relative file names given to the loaders are taken from here.
        defaults: the settings to start with.
    """

    # The default prefix of from_prefixed_env (``KETCH_SECRET_KEY``...).
    env_prefix = "KETCH"

    def __init__(self, root_path: str | os.PathLike[str] = ".", defaults: Mapping[str, Any] | None = None) -> None:
        super().__init__(defaults or {})
        self.root_path = root_path

    def from_envvar(self, variable_name: str, silent: bool = False) -> bool:
        """Load the Python file named by the environment variable ``variable_name``."""
        value = os.environ.get(variable_name)
        if not value:
            if silent:
                return False
            raise RuntimeError(
                f"The environment variable {variable_name!r} is not set and as such configuration could not be "
                "loaded. Set this variable and make it point to a configuration file"
            )
        return self.from_pyfile(value, silent=silent)

    def from_prefixed_env(self, prefix: str | None = None, *, loads: Callable[[str], Any] = json.loads) -> bool:
        """Load every ``{prefix}_KEY`` environment variable (``KETCH_`` by default) as ``KEY``, parsing values as
        JSON when they parse (``KETCH_DEBUG=true`` is ``True``); ``A__B`` sets ``config["A"]["B"]``."""
        start = f"{prefix or self.env_prefix}_"
        for key in sorted(os.environ):
            if not key.startswith(start):
                continue
            raw = os.environ[key]
            key = key.removeprefix(start)
            value: Any
            try:
                value = loads(raw)
            except Exception:
                value = raw  # not JSON: kept as the string it is
            if "__" not in key:
                self[key] = value
                continue
            current: dict[str, Any] = self
            *parts, tail = key.split("__")
            for part in parts:
                current = current.setdefault(part, {})
            current[tail] = value
        return True

    def from_pyfile(self, filename: str | os.PathLike[str], silent: bool = False) -> bool:
        """Run a Python file and load its upper-case names (``silent``: a missing file is not an error)."""
        path = os.path.join(self.root_path, filename)
        module = types.ModuleType("config")
        module.__file__ = path
        try:
            with open(path, mode="rb") as config_file:
                exec(compile(config_file.read(), path, "exec"), module.__dict__)
        except OSError as exc:
            if silent and exc.errno in (errno.ENOENT, errno.EISDIR, errno.ENOTDIR):
                return False
            exc.strerror = f"Unable to load configuration file ({exc.strerror})"
            raise
        self.from_object(module)
        return True

    def from_object(self, obj: object | str) -> None:
        """Load the upper-case attributes of an object, class or module (or of the import path given)."""
        if isinstance(obj, str):
            obj = import_string(obj)
        for key in dir(obj):
            if key.isupper():
                self[key] = getattr(obj, key)

    def from_file(
        self,
        filename: str | os.PathLike[str],
        load: Callable[[IO[Any]], Mapping[str, Any]],
        silent: bool = False,
        text: bool = True,
    ) -> bool:
        """Load a data file with ``load`` (``json.load``, ``tomllib.load`` with ``text=False``)."""
        path = os.path.join(self.root_path, filename)
        try:
            with open(path, "r" if text else "rb") as data_file:
                obj = load(data_file)
        except OSError as exc:
            if silent and exc.errno in (errno.ENOENT, errno.EISDIR):
                return False
            exc.strerror = f"Unable to load configuration file ({exc.strerror})"
            raise
        return self.from_mapping(obj)

    def from_mapping(self, mapping: Mapping[str, Any] | None = None, **kwargs: Any) -> bool:
        """Load the upper-case keys of a mapping and of the keyword arguments."""
        merged: dict[str, Any] = {}
        if mapping is not None:
            merged.update(mapping)
        merged.update(kwargs)
        for key, value in merged.items():
            if key.isupper():
                self[key] = value
        return True

    def get_namespace(self, namespace: str, lowercase: bool = True, trim_namespace: bool = True) -> dict[str, Any]:
        """The settings starting with ``namespace`` (``"UPLOAD_"``), keys trimmed and lower-cased by default."""
        found = {}
        for key, value in self.items():
            if not key.startswith(namespace):
                continue
            name = key[len(namespace) :] if trim_namespace else key
            found[name.lower() if lowercase else name] = value
        return found

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {dict.__repr__(self)}>"
