"""RFC 8785 canonical form: the bytes that get signed."""
from __future__ import annotations

import pytest

from fn_openc2.lib.security import CanonicalizationError, canonicalize


def test_members_sorted_by_utf16_code_units_and_no_whitespace() -> None:
    # RFC 8785 section 3.2.3: sorting is by UTF-16 code units, so U+1F600 (a surrogate pair
    # starting 0xD83D) sorts before U+FB33 even though its code point is larger.
    doc = {"\ufb33": 1, "\U0001f600": 2, "b": [1, {"z": None, "a": True}], "a": "x"}
    assert canonicalize(doc) == '{"a":"x","b":[1,{"a":true,"z":null}],"\U0001f600":2,"\ufb33":1}'.encode()


def test_numbers_use_ecmascript_form() -> None:
    assert canonicalize([1.0, 1e21, 1e-7, -0.0, 0.5, 100]) == b"[1,1e+21,1e-7,0,0.5,100]"


def test_strings_escape_only_what_json_requires() -> None:
    assert canonicalize({"s": "é\u2028\n\"\\/\x01"}) == '{"s":"é\u2028\\n\\"\\\\/\\u0001"}'.encode()


def test_integer_outside_ijson_range_names_its_path() -> None:
    with pytest.raises(CanonicalizationError) as info:
        canonicalize({"headers": {"created": 2**60}})
    assert info.value.path == "headers.created"
    assert "I-JSON" in str(info.value)


def test_nan_names_its_path() -> None:
    with pytest.raises(CanonicalizationError) as info:
        canonicalize({"a": [1, float("nan")]})
    assert info.value.path == "a[1]"


# --- the fast path must be byte-identical to the rfc8785 reference ---------------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from fn_openc2.lib.security.canonical import canonicalize_reference  # noqa: E402

_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
_keys = st.text(max_size=6) | st.sampled_from(["a", "b", "\ufb33", "\U0001f600", "\x7f", "é", "A\n"])
_documents = st.recursive(
    _scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(_keys, children, max_size=4),
    max_leaves=20,
)


@settings(max_examples=400, deadline=None)
@given(_documents)
def test_fast_path_equals_reference(doc: object) -> None:
    try:
        expected = canonicalize_reference(doc)
    except CanonicalizationError:
        with pytest.raises(CanonicalizationError):
            canonicalize(doc)
        return
    assert canonicalize(doc) == expected


def test_fast_path_covers_control_characters_and_non_ascii_values() -> None:
    doc = {"k": "".join(map(chr, range(0x20))) + "\x7f\u00e9\u2028\U0001f600\"\\/"}
    assert canonicalize(doc) == canonicalize_reference(doc)


def test_lone_surrogate_is_refused() -> None:
    with pytest.raises(CanonicalizationError):
        canonicalize({"s": "\ud800"})
