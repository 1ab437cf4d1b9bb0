"""``fastapi.templating``."""

from ketch.templating import Jinja2Templates

__all__ = ["Jinja2Templates"]
