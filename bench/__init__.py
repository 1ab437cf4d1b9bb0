"""ketch's benchmark: the same scenarios on ketch, its peers and raw ASGI/WSGI floors (see bench/README.md)."""
