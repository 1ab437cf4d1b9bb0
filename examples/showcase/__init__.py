"""The ketch showcase app: run it with ``scripts/showcase`` and open http://127.0.0.1:8000."""
