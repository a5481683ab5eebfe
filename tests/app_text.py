"""What a page shows as text, read from an AppTest run, and English words left in it.

Used by the Chinese-page tests: every label, caption, message and button of a
page, gathered from the element protos, minus what is meant to stay Latin (codes,
numbers, product names), must hold no English word.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from google.protobuf.message import Message

_TEXT_FIELDS = {"label", "body", "help", "placeholder", "content", "delta", "alt", "options", "text"}
# Latin words a Chinese page keeps: product and protocol names, units, codes, config keys.
ALLOWED = {
    "AllTick",
    "ALLTICK",
    "TOKEN",
    "PLAN",
    "CSV",
    "Parquet",
    "DuckDB",
    "HTTP",
    "API",
    "WebSocket",
    "UTC",
    "ISO",
    "English",
    "ret",
    "Professional",
    "Free",
    "Basic",
    "Premium",
    "ADR",
    "avg",
}
_DROP = [
    re.compile(r"(`+).*?\1", re.S),  # code spans: literal input, config keys
    re.compile(r":material/[a-z_]+:"),  # icons
    re.compile(r":(red|green|blue|gray|grey|orange|violet|rainbow|primary)\["),  # colour directives
    re.compile(r"\b[A-Z0-9]{1,6}(?:\.[A-Z]{1,2})?\.(?:US|HK|SH|SZ)\b"),  # canonical codes
    re.compile(r"\b(?:[A-Z]{6}|[A-Z0-9]{2,10}USDT|GOLD|Silver)\b"),  # forex, crypto, metals
    re.compile(r"\b(?:AAPL|TSLA|BRK|HK00700|USDCNH)\b"),  # examples in the help text
    re.compile(r"https?://\S+"),
]


def _strings(msg: Message, name: str = "") -> Iterator[str]:
    for field, value in msg.ListFields():
        fname = field.name
        if field.type == field.TYPE_MESSAGE:
            items = value if field.is_repeated else [value]
            for item in items:
                yield from _strings(item, fname)
        elif field.type == field.TYPE_STRING and (fname in _TEXT_FIELDS or name in _TEXT_FIELDS):
            items = value if field.is_repeated else [value]
            yield from (str(v) for v in items)


def page_texts(at: Any) -> list[str]:
    """Every user-visible string of the page's elements (not the data of tables and charts)."""
    out: list[str] = []

    def walk(node: Any) -> None:
        proto = getattr(node, "proto", None)
        kind = getattr(node, "type", "")
        if isinstance(proto, Message) and kind not in ("arrow_data_frame", "vega_lite_chart", "html"):
            out.extend(_strings(proto))
        if kind == "arrow_data_frame" and proto is not None:
            for conf in json.loads(proto.columns or "{}").values():
                out.extend(str(conf.get(k, "")) for k in ("label", "help") if conf.get(k))
        children = getattr(node, "children", None)
        if isinstance(children, dict):
            for child in children.values():
                walk(child)

    walk(at._tree)
    return [t for t in out if t]


def english_words(texts: list[str], names: set[str] = frozenset()) -> set[str]:
    """Latin words of three letters or more, outside the allowed names and codes."""
    found: set[str] = set()
    for text in texts:
        for pattern in _DROP:
            text = pattern.sub(" ", text)
        for name in names:
            text = text.replace(name, " ")
        found.update(w for w in re.findall(r"[A-Za-z]{3,}", text) if w not in ALLOWED)
    return found
