from ketch import Ketch


class Defaults:
    SECRET_KEY = "dev"
    DATABASE = "sqlite:///dev.db"
    MAIL_SERVER = "localhost"
    MAIL_PORT = 25


app = Ketch(__name__)
app.config.from_object(Defaults)  # UPPERCASE attributes only
app.config.from_pyfile("settings.cfg", silent=True)  # a Python file, if it exists
app.config.from_prefixed_env()  # KETCH_SECRET_KEY=..., KETCH_MAIL_PORT=2525 (parsed as JSON when it can be)
mail = app.config.get_namespace("MAIL_")  # {"server": "localhost", "port": 25}
