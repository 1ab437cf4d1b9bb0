from ketch import Ketch, WebSocket

# The API is served on api.example.com; the pages of app.example.com open its sockets with the session cookie.
app = Ketch(websocket_origins=["https://app.example.com"])

SESSIONS = {"c2Vzc2lvbg": "alice"}


@app.websocket("/notifications")
async def notifications(websocket: WebSocket) -> None:
    user = SESSIONS.get(websocket.cookies.get("session", ""))
    if user is None:
        await websocket.close(code=1008, reason="log in first")
        return
    await websocket.accept()
    await websocket.send_json({"user": user, "unread": 3})
    await websocket.close()
