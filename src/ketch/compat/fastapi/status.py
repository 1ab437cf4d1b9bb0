"""``fastapi.status``: every ``HTTP_*`` and ``WS_*`` constant."""

from ketch.status import *  # noqa: F403
from ketch.status import __all__ as __all__
