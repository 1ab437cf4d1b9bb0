"""``starlette.types``."""

from ketch.types import ASGIApp, Lifespan, Message, Receive, Scope, Send, StatefulLifespan, StatelessLifespan

__all__ = ["ASGIApp", "Lifespan", "Message", "Receive", "Scope", "Send", "StatefulLifespan", "StatelessLifespan"]
