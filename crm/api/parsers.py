"""JSON request bodies with bounded nesting.

Python's json module recurses once per level: a body nested 5,000 deep raised RecursionError
(a 500) here or further on. The depth is measured first with a regular expression (strings
removed, then a running count of brackets), so no recursion happens on hostile input.
"""

from __future__ import annotations

import io
import re
from itertools import accumulate
from typing import Any

from django.conf import settings
from rest_framework import parsers
from rest_framework.exceptions import ParseError

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


class JSONTooDeep(ParseError):
    default_code = "too_deep"


def json_depth(text: str) -> int:
    """The deepest nesting of arrays and objects in ``text`` (0 for a scalar)."""
    brackets = _BRACKET.findall(_STRING.sub("", text))
    return max(accumulate(_STEP[b] for b in brackets), default=0)


class BoundedJSONParser(parsers.JSONParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        raw = stream.read() if stream is not None else b""
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError as exc:
            raise ParseError("请求内容不是有效的 JSON。") from exc
        limit = settings.API_JSON_MAX_DEPTH
        if json_depth(text) > limit:
            raise JSONTooDeep(f"JSON 嵌套层数过多（最多 {limit} 层）。")
        try:
            return super().parse(io.BytesIO(raw), media_type, parser_context)
        except RecursionError as exc:  # depth within the limit cannot recurse this far; defence only
            raise JSONTooDeep(f"JSON 嵌套层数过多（最多 {limit} 层）。") from exc
