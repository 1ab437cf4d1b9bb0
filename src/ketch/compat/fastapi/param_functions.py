"""``fastapi.param_functions``: ``Query()``, ``Depends()``... (ketch's markers are classes with the same
arguments)."""

from ketch.params import Body, Cookie, Depends, File, Form, Header, Path, Query, Security

__all__ = ["Body", "Cookie", "Depends", "File", "Form", "Header", "Path", "Query", "Security"]
