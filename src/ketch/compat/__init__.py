"""Import-path mirrors of other frameworks: ``ketch.compat.flask`` (and ``ketch.compat.fastapi``)."""
