"""Routing: route records, routers, path convertors, the compiled matcher and reverse URLs."""

from ketch.routing.convertors import Convertor, register_convertor
from ketch.routing.route import BaseRoute, Mount, Route, WebSocketRoute
from ketch.routing.router import Include, Middleware, RouteOptions, Router
from ketch.routing.urls import NoMatchFound

__all__ = [
    "BaseRoute",
    "Convertor",
    "Include",
    "Middleware",
    "Mount",
    "NoMatchFound",
    "Route",
    "RouteOptions",
    "Router",
    "WebSocketRoute",
    "register_convertor",
]
