"""``python -m ketch``: the ketch command line."""

from ketch.cli import main

if __name__ == "__main__":
    main()
