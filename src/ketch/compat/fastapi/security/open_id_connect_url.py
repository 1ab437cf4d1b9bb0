"""``fastapi.security.open_id_connect_url``."""

from ketch.security.open_id_connect_url import OpenIdConnect

__all__ = ["OpenIdConnect"]
