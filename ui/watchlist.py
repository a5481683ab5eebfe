"""The per-session watchlist as plain data: adding, removing, presets and the URL form.

The sidebar widgets only call these functions; keeping the rules here lets tests pin
them without Streamlit. Input is untrusted (typed, pasted, or from a shared link), so
every message that repeats it shows it as an inline code span (literal, never
markdown) in visible form, and every list it names is summarised after a few items.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from feed.symbols import InvalidSymbol, Market, Symbol, parse_symbol
from ui.i18n import EN, N_, Translator
from ui.symbol_input import bare_word, class_share, looks_like_text, odd_characters, split_input, visible

__all__ = [
    "MAX_INPUT_CHARS",
    "MAX_SHOWN",
    "MAX_WATCHLIST",
    "PRESETS",
    "WatchlistChange",
    "add_symbols",
    "escape_markdown",
    "from_query",
    "inline_code",
    "market_of",
    "remove_symbols",
    "shorten",
    "summarise",
    "to_query",
]

# A browser session watching more than this is a mistake or a bot; the plan caps what
# actually streams far lower anyway (free: 5 codes).
MAX_WATCHLIST = 200
# Longest text the add box or the ?symbols= parameter is read from: far above any
# real list (10,000 codes fit), so only abuse is refused, and then with a message.
MAX_INPUT_CHARS = 200_000
# How many codes or bad entries one message names before summarising the rest.
MAX_SHOWN = 8

# Preset names are msgids: the sidebar shows them translated, the keys stay English.
PRESETS: dict[str, tuple[str, ...]] = {
    N_("Article's four"): ("AAPL.US", "TSLA.US", "700.HK", "9988.HK"),
    N_("US mega caps"): (
        "AAPL.US",
        "MSFT.US",
        "NVDA.US",
        "AMZN.US",
        "GOOGL.US",
        "META.US",
        "TSLA.US",
        "AVGO.US",
    ),
    N_("HK tech"): ("700.HK", "9988.HK", "3690.HK", "1810.HK", "9618.HK", "1024.HK", "9999.HK", "981.HK"),
    N_("Dual-listed pairs"): (
        "BABA.US",
        "9988.HK",
        "JD.US",
        "9618.HK",
        "BIDU.US",
        "9888.HK",
        "NTES.US",
        "9999.HK",
    ),
    N_("A-shares, FX & crypto"): ("600519.SH", "000001.SZ", "USDHKD", "USDCNH", "GOLD", "BTCUSDT"),
}

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~:$&\"'=])")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069]")

# The feed parser's reasons (English), as msgids; anything else is shown as a detail.
_REASONS = {
    "empty": N_("empty"),
    "only letters, digits and dots are allowed": N_("only letters, digits and dots are allowed"),
    "not a US ticker": N_("not a US ticker"),
    "HK codes are numbers of up to five digits": N_("HK codes are numbers of up to five digits"),
    "HK code 0 does not exist": N_("HK code 0 does not exist"),
    "A-share codes are six digits": N_("A-share codes are six digits"),
    "too many digits for an HK or A-share code": N_("too many digits for an HK or A-share code"),
    "not a known US, HK, A-share, forex or crypto code": N_(
        "not a known US, HK, A-share, forex or crypto code"
    ),
    "A-share codes start with 6 (Shanghai) or 0/3 (Shenzhen)": N_(
        "A-share codes start with 6 (Shanghai) or 0/3 (Shenzhen)"
    ),
}
_TOO_LONG = re.compile(r"^longer than (\d+) characters$")
_SUFFIX = re.compile(r"^unknown market suffix '\.(.*)' \(use \.US, \.HK, \.SH or \.SZ\)$")


def shorten(text: str, limit: int = 32) -> str:
    """Cut untrusted text for display and drop control and bidi characters."""
    clean = _CONTROL.sub("", str(text))
    return clean if len(clean) <= limit else clean[:limit] + "…"


def escape_markdown(text: str) -> str:
    """Make untrusted text literal in Streamlit markdown (links, emphasis, :icons:, $math$)."""
    return _MD_SPECIAL.sub(r"\\\1", text)


def inline_code(text: str) -> str:
    """Untrusted text as a markdown code span: shown exactly (``--`` stays two hyphens)."""
    run = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * (run + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text.strip() else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def summarise(tr: Translator, items: list[str], limit: int = MAX_SHOWN) -> str:
    """``A, B, C`` or ``A, B … and 12 more``: long lists never flood a message."""
    if len(items) <= limit:
        return tr.join(items)
    return tr._("{shown} and {more} more", shown=tr.join(items[:limit]), more=f"{len(items) - limit:,}")


@dataclass(frozen=True, slots=True)
class Refused:
    """An entry that is not a symbol: what was typed and the parser's reason."""

    text: str
    reason: str


@dataclass(slots=True)
class WatchlistChange:
    """What an add did: the new list, and every reason something was not added."""

    watchlist: list[str]
    added: list[str] = field(default_factory=list)
    already: list[str] = field(default_factory=list)
    invalid: list[Refused] = field(default_factory=list)
    held: list[str] = field(default_factory=list)  # bare words in text-like input
    over_cap: list[str] = field(default_factory=list)
    too_long: int = 0  # length of input refused as a whole, 0 if none
    entries: int = 0  # how many entries the input had

    def messages(self, tr: Translator = EN, source: str = "box") -> list[str]:
        """Markdown-safe error lines naming each refused entry (summarised after a few).

        ``source`` is ``"box"`` (the add box) or ``"link"`` (a shared address): a link
        is not pasted, and what it cannot keep is dropped rather than left to remove.
        """
        lines: list[str] = []
        if self.too_long:
            lines.append(
                tr._(
                    "That text is {length} characters long; at most {limit} characters are read.",
                    length=f"{self.too_long:,}",
                    limit=f"{MAX_INPUT_CHARS:,}",
                )
            )
        for bad in self.invalid[:MAX_SHOWN]:
            lines.append(
                tr._(
                    "{entry} is not a valid symbol: {reason}.",
                    entry=inline_code(visible(bad.text)),
                    reason=reason_text(tr, bad),
                )
            )
        if len(self.invalid) > MAX_SHOWN:
            more = len(self.invalid) - MAX_SHOWN
            lines.append(tr.ngettext("…and {n} more invalid entry.", "…and {n} more invalid entries.", more))
        if self.held:
            lines.append(
                tr._(
                    "This looks like text, not a list of symbols, so these words were not added: "
                    "{words}. Add a US ticker with its suffix, e.g. {example}.",
                    words=summarise(tr, [inline_code(visible(w)) for w in self.held]),
                    example=inline_code(f"{visible(self.held[0], 8).upper()}.US"),
                )
            )
        if self.over_cap and source == "link":
            lines.append(
                tr.ngettext(
                    "The watchlist holds at most {cap} symbols: the link's first {cap} were kept "
                    "and {n} more was dropped ({codes}).",
                    "The watchlist holds at most {cap} symbols: the link's first {cap} were kept "
                    "and {n} more were dropped ({codes}).",
                    len(self.over_cap),
                    cap=MAX_WATCHLIST,
                    codes=summarise(tr, [escape_markdown(c) for c in self.over_cap]),
                )
            )
        elif self.over_cap:
            lines.append(
                tr.ngettext(
                    "The watchlist holds at most {cap} symbols: {n} more was not added ({codes}). "
                    "Remove some symbols first.",
                    "The watchlist holds at most {cap} symbols: {n} more were not added ({codes}). "
                    "Remove some symbols first.",
                    len(self.over_cap),
                    cap=MAX_WATCHLIST,
                    codes=summarise(tr, [escape_markdown(c) for c in self.over_cap]),
                )
            )
        return lines

    def success(self, tr: Translator = EN) -> str | None:
        """One line for what was added, its codes summarised (a 300-code paste stays short)."""
        if not self.added:
            return None
        return tr.ngettext(
            "Added {n} symbol: {codes}.",
            "Added {n} symbols: {codes}.",
            len(self.added),
            codes=summarise(tr, [escape_markdown(c) for c in self.added]),
        )

    def note(self, tr: Translator = EN) -> str | None:
        """Codes that were already in the list (said only when nothing else happened)."""
        if not self.already or self.added or self.messages(tr):
            return None
        return tr._(
            "Already watching {codes}.", codes=summarise(tr, [escape_markdown(c) for c in self.already])
        )


def reason_text(tr: Translator, bad: Refused) -> str:
    """The parser's reason in the viewer's language, naming the characters that are not allowed."""
    reason = bad.reason
    if reason in _REASONS:
        text = tr._(_REASONS[reason])
        odd = odd_characters(bad.text)
        if reason.startswith("only letters") and odd:
            text = tr._(
                "{reason} (found {chars})",
                reason=text,
                chars=tr.join(inline_code(c) for c in odd[:MAX_SHOWN]),
            )
        return text
    if m := _TOO_LONG.match(reason):
        return tr._("longer than {limit} characters", limit=m.group(1))
    if m := _SUFFIX.match(reason):
        return tr._(
            "unknown market suffix {suffix} (use .US, .HK, .SH or .SZ)",
            suffix=inline_code("." + visible(m.group(1), 8)),
        )
    return tr._("the feed says: {detail}", detail=escape_markdown(shorten(reason, 120)))


def market_of(code: str) -> Market | None:
    """The market of a canonical code (canonical codes parse to themselves)."""
    try:
        return parse_symbol(code).market
    except InvalidSymbol:
        return None


def _parse(text: str) -> Symbol:
    try:
        return parse_symbol(text)
    except InvalidSymbol:
        alt = class_share(text)
        if alt is None:
            raise
        return parse_symbol(alt)


def add_symbols(current: list[str], text: str | list[str], cap: int = MAX_WATCHLIST) -> WatchlistChange:
    """Append the valid symbols in ``text`` to ``current``, in order, without duplicates.

    Bad entries never cost the good ones; entries past ``cap`` are refused by name.
    In input that looks like text or code (quotes, ``--``, brackets), bare words are
    held back rather than guessed to be US tickers.
    """
    change = WatchlistChange(watchlist=list(current))
    joined = ",".join(text) if isinstance(text, list) else text or ""
    if len(joined) > MAX_INPUT_CHARS:
        change.too_long = len(joined)
        return change
    tokens = split_input(joined)
    change.entries = len(tokens)
    textual = looks_like_text(tokens)
    present = set(change.watchlist)
    for token in tokens:
        try:
            sym = _parse(token.text)
        except InvalidSymbol as exc:
            change.invalid.append(Refused(token.raw, exc.reason))
            continue
        if textual and bare_word(token.text) and sym.market is Market.US:
            change.held.append(token.text)
            continue
        if sym.code in present:
            if sym.code not in change.already and sym.code not in change.added:
                change.already.append(sym.code)
        elif len(change.watchlist) >= cap:
            if sym.code not in change.over_cap:
                change.over_cap.append(sym.code)
        else:
            change.watchlist.append(sym.code)
            change.added.append(sym.code)
            present.add(sym.code)
    return change


def remove_symbols(current: list[str], codes: list[str]) -> list[str]:
    """``current`` without ``codes``, order kept."""
    drop = set(codes)
    return [c for c in current if c not in drop]


def from_query(value: str | list[str] | None, cap: int = MAX_WATCHLIST) -> WatchlistChange:
    """Read a shared link's ``?symbols=AAPL.US,700.HK`` (repeated keys allowed)."""
    if value is None:
        return WatchlistChange(watchlist=[])
    text = ",".join(value) if isinstance(value, list) else value
    return add_symbols([], text, cap=cap)


def to_query(codes: list[str]) -> str:
    """The ``symbols`` query value for a watchlist: canonical codes, comma separated."""
    return ",".join(codes)


def symbols_of(codes: list[str]) -> list[Symbol]:
    """Canonical codes back to :class:`Symbol` values, skipping any that no longer parse."""
    out: list[Symbol] = []
    for code in codes:
        try:
            out.append(parse_symbol(code))
        except InvalidSymbol:
            continue
    return out
