"""``fastapi.encoders``."""

from ketch.encoders import jsonable_encoder

__all__ = ["jsonable_encoder"]
