from typing import Annotated

from pydantic import BaseModel

from ketch import HTTPException, Ketch, WebSocket
from ketch.params import Depends, Security
from ketch.security import (
    APIKeyHeader,
    HTTPBasic,
    HTTPBasicCredentials,
    OAuth2PasswordBearer,
    OAuth2PasswordRequestForm,
    SecurityScopes,
)

app = Ketch(title="Secure shop", swagger_ui_init_oauth={"clientId": "shop-docs"})

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="token", scopes={"items:read": "Read items", "me": "Read your data"})
basic = HTTPBasic(realm="shop")
api_key = APIKeyHeader(name="X-API-Key", auto_error=False)
TOKENS = {"alice-token": ("alice", {"items:read", "me"})}


class User(BaseModel):
    username: str


@app.post("/token")
async def login(form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> dict[str, str]:
    if (form.username, form.password) != ("alice", "wonderland"):
        raise HTTPException(400, "Incorrect username or password")
    return {"access_token": "alice-token", "token_type": "bearer"}


async def current_user(scopes: SecurityScopes, token: Annotated[str, Depends(oauth2_scheme)]) -> User:
    username, granted = TOKENS.get(token, ("", set()))
    if not username:
        raise HTTPException(401, "Invalid token", headers={"WWW-Authenticate": "Bearer"})
    missing = set(scopes.scopes) - granted
    if missing:
        header = f'Bearer scope="{scopes.scope_str}"'
        raise HTTPException(403, f"Missing scopes: {sorted(missing)}", headers={"WWW-Authenticate": header})
    return User(username=username)


@app.get("/users/me")
async def read_me(user: Annotated[User, Security(current_user, scopes=["me"])]) -> User:
    return user


@app.get("/admin")
async def admin(credentials: Annotated[HTTPBasicCredentials, Depends(basic)]) -> dict[str, str]:
    return {"admin": credentials.username}


@app.get("/public")
async def public(key: Annotated[str | None, Depends(api_key)]) -> dict[str, bool]:
    return {"has_key": key is not None}


@app.websocket("/ws")
async def feed(websocket: WebSocket, user: Annotated[User, Security(current_user, scopes=["items:read"])]) -> None:
    await websocket.accept()
    await websocket.send_text(f"hello {user.username}")
    await websocket.close()
