"""``flask.templating``."""

from ketch.helpers import render_template, render_template_string, stream_template, stream_template_string
from ketch.templating import DispatchingJinjaLoader, Environment

__all__ = [
    "DispatchingJinjaLoader",
    "Environment",
    "render_template",
    "render_template_string",
    "stream_template",
    "stream_template_string",
]
