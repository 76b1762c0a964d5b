"""Indented JSON, written fast: the same text as Python's own encoder, whatever the document."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from safeguarding import jsontext

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()  # NaN and infinity included: the standard encoder's spelling is kept
    | st.text(alphabet=st.characters(codec="utf-8"))
)
DOCUMENTS = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.lists(inner, max_size=3).map(tuple)
        | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=30,
)


@settings(max_examples=500, deadline=None)
@given(DOCUMENTS)
def test_the_text_is_what_the_standard_encoder_writes(document: Any) -> None:
    assert jsontext.dumps(document) == json.dumps(document, ensure_ascii=False, indent=2)


def test_keys_that_are_not_strings_are_written_as_the_standard_encoder_writes_them() -> None:
    document = {"entries": [{1: "one", 2.5: None, False: [], None: {}}]}
    assert jsontext.dumps(document) == json.dumps(document, ensure_ascii=False, indent=2)


def test_a_value_json_cannot_hold_is_refused_as_the_standard_encoder_refuses_it() -> None:
    import pytest

    with pytest.raises(TypeError, match="not JSON serializable"):
        jsontext.dumps({"when": object()})
