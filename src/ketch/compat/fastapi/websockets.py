"""``fastapi.websockets``."""

from ketch.websockets import WebSocket, WebSocketDisconnect, WebSocketState

__all__ = ["WebSocket", "WebSocketDisconnect", "WebSocketState"]
