"""What people paste into "Add symbols", cut into candidate codes before the feed's parser.

The feed's :func:`feed.symbols.parse_symbol` knows AllTick's code forms; this module
knows how people type: Chinese input methods give full-width commas and letters
(``600519，000001``, ``ＡＡＰＬ``), copy-paste brings zero-width spaces and BOMs,
and class shares are written ``BRK.B``. It also spots input that is text or code
rather than a symbol list (``'; DROP TABLE users; --``), where bare words must not
quietly become US tickers.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

__all__ = [
    "Token",
    "class_share",
    "looks_like_text",
    "split_input",
    "visible",
]

# Separators people use between codes, after NFKC folding: ASCII and CJK commas,
# semicolons, enumeration commas, pipes and any whitespace or control character.
_SEPARATORS = re.compile(r"[,;、|\s\x00-\x1f\x7f-\x9f]+")
# Characters that are never part of a code and mean "this is prose or code".
_TEXT_MARKS = re.compile(r"['\"`=()<>{}\[\]*!?\\]|--|/\*")
_CODE_CHARS = re.compile(r"[A-Za-z0-9.]+")
_CLASS_SHARE = re.compile(r"^[A-Za-z]{1,5}\.[A-Za-z]$")
_MARKET_SUFFIXES = frozenset({"US", "HK", "SH", "SZ"})


@dataclass(frozen=True, slots=True)
class Token:
    """One candidate code as typed (``raw``) and as it goes to the parser (``text``)."""

    raw: str
    text: str


def _invisible(ch: str) -> bool:
    """Format characters (zero-width space, joiners, BOM, bidi marks) and soft hyphens."""
    return unicodedata.category(ch) == "Cf" or ch == "\u00ad"


def split_input(text: str) -> list[Token]:
    """Cut pasted text into tokens, dropping invisible characters inside them.

    NFKC folds full-width forms to ASCII (``，`` -> ``,``, ``ＡＡＰＬ`` -> ``AAPL``),
    so codes typed with a Chinese input method parse like any other.
    """
    folded = unicodedata.normalize("NFKC", text or "")
    tokens = []
    for raw in _SEPARATORS.split(folded):
        clean = "".join(ch for ch in raw if not _invisible(ch))
        if clean:
            tokens.append(Token(raw=raw, text=clean))
    return tokens


def class_share(text: str) -> str | None:
    """``BRK.B`` -> ``BRK.B.US``: a one-letter class after the dot is a US share class."""
    if _CLASS_SHARE.match(text) and text.rpartition(".")[2].upper() not in _MARKET_SUFFIXES:
        return text + ".US"
    return None


def looks_like_text(tokens: list[Token]) -> bool:
    """True when some token carries quotes, brackets, ``=``, ``--`` and the like."""
    return any(_TEXT_MARKS.search(t.text) for t in tokens)


def bare_word(text: str) -> bool:
    """Letters only and no market suffix: a US ticker only by guess."""
    return text.isascii() and text.isalpha()


def visible(text: str, limit: int = 32) -> str:
    """Untrusted text made visible and short: hidden characters become ``<U+200B>``."""
    out = []
    for ch in str(text):
        if _invisible(ch) or unicodedata.category(ch) in ("Cc", "Zl", "Zp"):
            out.append(f"<U+{ord(ch):04X}>")
        else:
            out.append(ch)
    shown = "".join(out)
    return shown if len(shown) <= limit else shown[:limit] + "…"


def odd_characters(text: str) -> list[str]:
    """The characters of ``text`` a code may not hold, each once, in visible form."""
    seen: dict[str, None] = {}
    for ch in text:
        if not _CODE_CHARS.fullmatch(ch) or not ch.isascii():
            seen.setdefault(visible(ch), None)
    return list(seen)
