"""``flask``: Flask's public API, served by ketch's classic face. ``from ketch.compat.flask import Flask``."""

from ketch.blueprints import Blueprint
from ketch.compat.flask import json
from ketch.compat.flask.app import Config, Flask, Request
from ketch.ctx import after_this_request, copy_current_request_context, has_app_context, has_request_context
from ketch.globals import current_app, g, request, session
from ketch.helpers import (
    abort,
    flash,
    get_flashed_messages,
    get_template_attribute,
    jsonify,
    make_response,
    redirect,
    render_template,
    render_template_string,
    send_file,
    send_from_directory,
    stream_template,
    stream_template_string,
    stream_with_context,
    url_for,
)
from ketch.signals import (
    appcontext_popped,
    appcontext_pushed,
    appcontext_tearing_down,
    before_render_template,
    got_request_exception,
    message_flashed,
    request_finished,
    request_started,
    request_tearing_down,
    template_rendered,
)
from ketch.wrappers import Response

__all__ = [
    "Blueprint",
    "Config",
    "Flask",
    "Request",
    "Response",
    "abort",
    "after_this_request",
    "appcontext_popped",
    "appcontext_pushed",
    "appcontext_tearing_down",
    "before_render_template",
    "copy_current_request_context",
    "current_app",
    "flash",
    "g",
    "get_flashed_messages",
    "get_template_attribute",
    "got_request_exception",
    "has_app_context",
    "has_request_context",
    "json",
    "jsonify",
    "make_response",
    "message_flashed",
    "redirect",
    "render_template",
    "render_template_string",
    "request",
    "request_finished",
    "request_started",
    "request_tearing_down",
    "send_file",
    "send_from_directory",
    "session",
    "stream_template",
    "stream_template_string",
    "stream_with_context",
    "template_rendered",
    "url_for",
]
