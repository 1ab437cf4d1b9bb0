"""``fastapi.openapi``: OpenAPI document generation and the docs pages, served by ketch."""
