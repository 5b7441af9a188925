"""The `next` return-to path accepts only same-site paths."""

import pytest

from app.web.redirects import safe_next


@pytest.mark.parametrize("value", ["/", "/profile", "/profile?tab=claims", "/a/b#c"])
def test_same_site_paths_are_kept(value: str) -> None:
    assert safe_next(value) == value


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "profile",
        "//evil.example",
        "/\\evil.example",
        "https://evil.example/",
        "javascript:alert(1)",
        "/%2F%2Fevil.example",
        "/%5Cevil.example",
        "%2F%2Fevil.example",
        "/\t/evil.example",
        "/%09/evil.example",
        "http:/evil.example",
    ],
)
def test_other_targets_fall_back_to_home(value: str | None) -> None:
    assert safe_next(value) == "/"
