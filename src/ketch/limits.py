"""The one set of limits every parser reads under: body, form fields, files, parts, query params, body pace."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

__all__ = ["DEFAULT_LIMITS", "Limits"]

MiB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds on what a request may carry; each is enforced while reading, never after.

    Set them on the app, a router or a route: ``Ketch(limits=Limits(max_body_size=1 * MiB))``, or the shortcut
    ``max_body_size=`` that every level takes. ``None`` switches a limit off.

    Attributes:
        max_body_size: bytes of request body (after any decoding); over it is 413.
        max_form_fields: urlencoded or multipart fields; over it is 400.
        max_form_files: multipart files; over it is 400.
        max_part_size: bytes of one non-file multipart field or one urlencoded field; over it is 413.
        max_part_headers: headers in one multipart part; over it is 400.
        max_query_params: query-string pairs; over it is 400.
        spool_max_size: bytes of an upload kept in memory before it rolls over to a temporary file.
        body_timeout: seconds to wait for the next chunk of the body while reading it; past it is 408 (and the
            connection is closed). Per chunk, not for the whole body: a slow but steady upload is never cut off.
    """

    max_body_size: int | None = 10 * MiB
    max_form_fields: int | None = 1000
    max_form_files: int | None = 1000
    max_part_size: int | None = 1 * MiB
    max_part_headers: int = 16
    max_query_params: int | None = 1000
    spool_max_size: int = 1 * MiB
    # nginx's client_body_timeout (the same per-read gap, 408) and Sanic's REQUEST_TIMEOUT are 60 s too: far past
    # any pause of a live client, short enough that a stalled upload cannot hold a request open for long.
    body_timeout: float | None = 60.0

    def __post_init__(self) -> None:
        if self.body_timeout is not None and not self.body_timeout > 0:
            raise ValueError(f"body_timeout must be a positive number of seconds or None, not {self.body_timeout!r}")

    def with_changes(self, **changes: Any) -> Limits:
        """A copy with some limits changed."""
        return replace(self, **changes) if changes else self


DEFAULT_LIMITS = Limits()
