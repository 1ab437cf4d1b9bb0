"""ASGI middleware: the spec type, and the built-ins (errors, CORS, GZip, TrustedHost, HTTPSRedirect)."""

from ketch.routing.router import Middleware

__all__ = ["Middleware"]
