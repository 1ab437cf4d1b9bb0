"""``starlette``: the Starlette-level names FastAPI users import, served by ketch's core.

``from ketch.compat.starlette.exceptions import HTTPException`` is ketch's own class, the one ``ketch.compat.fastapi``
raises and handles, so a handler registered for either catches both (as Starlette's and FastAPI's do).
"""

__all__: list[str] = []
