"""``starlette.routing``."""

from ketch.routing import BaseRoute, Mount, NoMatchFound, Route, Router, WebSocketRoute

__all__ = ["BaseRoute", "Mount", "NoMatchFound", "Route", "Router", "WebSocketRoute"]
