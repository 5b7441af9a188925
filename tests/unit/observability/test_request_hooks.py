"""Request ids: a valid incoming X-Request-ID is kept, anything else is replaced."""

from __future__ import annotations

import pytest

from app.observability.request_hooks import request_id


@pytest.mark.parametrize("incoming", ["abc", "Heroku-1.2_3", "x" * 128])
def test_a_valid_incoming_request_id_is_kept(incoming: str) -> None:
    assert request_id(incoming) == incoming


@pytest.mark.parametrize("incoming", [None, "", "x" * 129, "a b", "a\nb", "é", "<script>"])
def test_any_other_request_id_is_replaced(incoming: str | None) -> None:
    generated = request_id(incoming)
    assert generated != incoming and len(generated) == 32
    assert request_id(incoming) != generated
