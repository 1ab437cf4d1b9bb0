from ketch import Ketch, WebSocket, WebSocketDisconnect

app = Ketch()


@app.websocket("/echo")
async def echo(websocket: WebSocket) -> None:
    await websocket.accept()
    async for text in websocket.iter_text():
        await websocket.send_text(f"echo: {text}")


@app.websocket("/rooms/{room}")
async def room(websocket: WebSocket, room: str) -> None:
    await websocket.accept()
    try:
        while True:
            message = await websocket.receive_json()
            await websocket.send_json({"room": room, "got": message})
    except WebSocketDisconnect:
        pass  # the client left


@app.websocket("/private")
async def private(websocket: WebSocket) -> None:
    if websocket.query_params.get("token") != "secret":
        await websocket.close(code=1008, reason="token required")
        return
    await websocket.accept()
    await websocket.send_text("welcome")
    await websocket.close()
