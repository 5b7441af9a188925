"""Benchmarks of the app against a bare ASGI app, bare Quart and a Flask peer (issue 5)."""
