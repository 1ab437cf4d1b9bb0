"""``flask.cli``."""

from ketch.cli import AppGroup, ScriptInfo, pass_script_info, with_appcontext
from ketch.cli import KetchGroup as FlaskGroup
from ketch.cli import NoAppError as NoAppException

__all__ = ["AppGroup", "FlaskGroup", "NoAppException", "ScriptInfo", "pass_script_info", "with_appcontext"]
