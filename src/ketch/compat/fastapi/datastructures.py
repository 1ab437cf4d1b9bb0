"""``fastapi.datastructures``."""

from ketch.datastructures import URL, Address, FormData, Headers, QueryParams, State, UploadFile

__all__ = ["URL", "Address", "FormData", "Headers", "QueryParams", "State", "UploadFile"]
