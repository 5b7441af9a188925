"""The apps the benchmark compares the service with: bare ASGI, bare Quart, Flask peer."""
