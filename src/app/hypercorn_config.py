"""Hypercorn settings for the Procfile: bind, workers, logs, graceful stop, a start-up check."""

import sys

from app.config import SettingsError, process_settings
from app.observability.logs import HypercornLogger
from app.serve import graceful_timeout_for

# Hypercorn imports this module in its main process, so a bad configuration stops
# the server here with one clear line per problem instead of a traceback per worker.
try:
    _settings = process_settings()
except SettingsError as error:
    print(error, file=sys.stderr)
    raise SystemExit(1) from None

bind = [f"{_settings.HOST}:{_settings.PORT}"]
workers = _settings.WEB_CONCURRENCY
worker_class = "uvloop"
# Log lines (LOG_FORMAT) come from the app's handler; the request lines (ACCESS_LOG) from the
# app itself, with route, request id and user, so hypercorn writes no access log of its own.
logger_class = HypercornLogger
accesslog = None
# On SIGTERM, the requests in flight get this long to finish (see app.serve).
graceful_timeout = graceful_timeout_for(_settings)
del _settings  # not a hypercorn setting
