"""The web layer: blueprints, pages, CSRF, headers, redirects and rendering."""
