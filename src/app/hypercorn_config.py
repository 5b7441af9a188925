"""Hypercorn settings for the Procfile: bind, workers and a start-up settings check."""

import os
import sys

from app.config import SettingsError, load_settings

bind = [f"{os.environ.get('HOST', '0.0.0.0')}:{os.environ.get('PORT', '3000')}"]  # noqa: S104
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "uvloop"
# An access line per request costs ~10% of a worker (hypercorn copies os.environ for each);
# platforms log requests at their router. ACCESS_LOG=1 turns it on (scripts/run does).
accesslog = "-" if os.environ.get("ACCESS_LOG", "").lower() in {"1", "true", "yes"} else None
errorlog = "-"
graceful_timeout = 5.0

# Hypercorn imports this module in its main process, so a bad configuration stops
# the server here with one clear line per problem instead of a traceback per worker.
try:
    load_settings()
except SettingsError as error:
    print(error, file=sys.stderr)
    raise SystemExit(1) from None
