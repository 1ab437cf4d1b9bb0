"""ASGI middleware: the spec type, and the built-ins (CORS, GZip, TrustedHost, HTTPSRedirect)."""

from ketch.middleware.cors import CORSMiddleware
from ketch.middleware.gzip import GZipMiddleware
from ketch.middleware.httpsredirect import HTTPSRedirectMiddleware
from ketch.middleware.trustedhost import TrustedHostMiddleware
from ketch.routing.router import Middleware

__all__ = [
    "CORSMiddleware",
    "GZipMiddleware",
    "HTTPSRedirectMiddleware",
    "Middleware",
    "TrustedHostMiddleware",
]
