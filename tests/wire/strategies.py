"""Hypothesis strategies that build values from botocore shapes: what a client may send
(input shapes) and what a handler may return (output shapes)."""

from __future__ import annotations

from datetime import UTC, datetime

from botocore.model import ListShape, MapShape, Shape, StructureShape
from hypothesis import strategies as st

# Text that XML 1.0 can carry (the serializer replaces the rest, tested on its own). No bare
# CR: an XML reader turns it into LF, and botocore's own request serializer does not escape it.
XML_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\ufffe\uffff",
                           min_codepoint=0x09).filter(
        lambda c: c in "\t\n" or ord(c) >= 0x20), max_size=12)

TIMESTAMPS = st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2100, 1, 1),
                          timezones=st.just(UTC)).map(lambda d: d.replace(microsecond=d.microsecond
                                                                          // 1000 * 1000))

MAX_DEPTH = 4


def value_for(shape: Shape, depth: int = 0, present: bool = False) -> st.SearchStrategy:
    """Values of ``shape``; ``present``: one the wire can tell from absence (not empty)."""
    kind = shape.type_name
    if isinstance(shape, StructureShape):
        return structure_for(shape, depth, present)
    if isinstance(shape, ListShape):
        if depth >= MAX_DEPTH and not present:
            return st.just([])
        return st.lists(value_for(shape.member, depth + 1, present), min_size=int(present),
                        max_size=3)
    if isinstance(shape, MapShape):
        if depth >= MAX_DEPTH:
            return st.just({})
        return st.dictionaries(value_for(shape.key, depth + 1), value_for(shape.value, depth + 1),
                               max_size=3)
    if kind == "string":
        if shape.enum:
            return st.sampled_from(shape.enum)
        return XML_TEXT
    if kind in ("integer", "long"):
        return st.integers(min_value=-(2**31), max_value=2**31 - 1)
    if kind == "boolean":
        return st.booleans()
    if kind in ("float", "double"):
        return st.floats(allow_nan=False, allow_infinity=False, width=64)
    if kind == "timestamp":
        return TIMESTAMPS
    if kind == "blob":
        return st.binary(max_size=16)
    raise NotImplementedError(kind)


def structure_for(shape: StructureShape, depth: int, present: bool = False
                  ) -> st.SearchStrategy:
    required = set(shape.required_members)
    members = {name: member for name, member in shape.members.items()
               if member.serialization.get("location") in LOCATED}
    if shape.is_tagged_union:  # a union (ACM's) holds exactly one of its members
        return st.sampled_from(sorted(members)).flatmap(lambda name: st.fixed_dictionaries(
            {name: value_for(members[name], depth + 1, present=True)}))
    fixed = {n: located(m, depth, present=True) for n, m in members.items() if n in required}
    optional = {} if depth >= MAX_DEPTH else {
        n: located(m, depth) for n, m in members.items() if n not in required}
    if fixed or not present or not members:
        return st.fixed_dictionaries(fixed, optional=optional)
    # An empty structure does not exist on the wire: give it one member for sure.
    return st.sampled_from(sorted(members)).flatmap(lambda name: st.fixed_dictionaries(
        {name: value_for(members[name], depth + 1, present=True)},
        optional={n: s for n, s in optional.items() if n != name}))


# Where a member may travel; others (statusCode, headers maps) are not generated.
LOCATED = (None, "uri", "querystring", "header")
HEADER_TEXT = st.from_regex(r"[!-~]([ -~]{0,10}[!-~])?", fullmatch=True)


def located(shape: Shape, depth: int, present: bool = False) -> st.SearchStrategy:
    """Values for a member in a URI, the query string or a header, which carry less."""
    location = shape.serialization.get("location")
    if location is None or shape.type_name != "string" or shape.enum:
        if location == "header" and shape.type_name == "timestamp":
            return TIMESTAMPS.map(lambda d: d.replace(microsecond=0))
        return value_for(shape, depth + 1, present)
    if location == "uri":
        return XML_TEXT.filter(lambda t: t.strip() == t and t not in ("", ".", ".."))
    if location == "header":
        return HEADER_TEXT
    return XML_TEXT


def normalize(value):
    """Drop what a wire form cannot tell apart from absence: None, and empty containers."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            item = normalize(item)
            if item is None or item == {} or item == []:
                continue
            out[key] = item
        return out
    if isinstance(value, list):
        items = [normalize(v) for v in value]
        return [v for v in items if v != {}]
    return value
