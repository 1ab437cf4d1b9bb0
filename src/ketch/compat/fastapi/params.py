"""``fastapi.params``: the marker classes."""

from ketch.params import Body, Cookie, Depends, File, Form, Header, Param, ParamTypes, Path, Query, Security

__all__ = ["Body", "Cookie", "Depends", "File", "Form", "Header", "Param", "ParamTypes", "Path", "Query", "Security"]
