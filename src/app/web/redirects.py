"""Validation of the `next` return-to path."""

from urllib.parse import unquote, urlsplit

DEFAULT_NEXT = "/"


def safe_next(value: str | None) -> str:
    """Return `value` if it is a same-site absolute path, else "/"."""
    if not value or not value.startswith("/"):
        return DEFAULT_NEXT
    decoded = unquote(value)
    # "//host" and "/\host" are protocol-relative URLs to browsers; control
    # characters can smuggle either past naive checks.
    if decoded.startswith(("//", "/\\")) or any(
        ord(char) < 0x20 or char == "\x7f" for char in decoded
    ):
        return DEFAULT_NEXT
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return DEFAULT_NEXT
    return value
