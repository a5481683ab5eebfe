"""Extract, merge and compile the dashboard's gettext catalogs with Babel.

    python -m locales.build          # after changing any user-visible string

1. Babel extracts every msgid from ``streamlit_app.py``, ``pages/`` and ``ui/`` into
   ``locales/messages.pot`` (keywords ``_``, ``ngettext``, ``pgettext``, ``N_``, ``NP_``).
2. ``zh_Hans/LC_MESSAGES/messages.po`` is updated from it: new msgids arrive
   untranslated, changed ones fuzzy, removed ones go. Translate those by hand.
3. ``zh_Hant`` (Hong Kong) is generated from ``zh_Hans`` with OpenCC's ``s2hk``.
4. Both are compiled to ``messages.mo``, which the app loads and git keeps (Streamlit
   Community Cloud runs the repository as it is, with no build step).

``tests/test_i18n.py`` fails while any step would change a file, or while any
message lacks a translation.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_file
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
LOCALES = ROOT / "locales"
POT = LOCALES / "messages.pot"
KEYWORDS = {**DEFAULT_KEYWORDS, "NP_": ((1, "c"), 2)}
PROJECT = "crossmarket-quotes"
# Fixed header dates: the files change only when their messages do.
STAMP = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
HEADER = {"project": PROJECT, "version": "0.1", "creation_date": STAMP, "revision_date": STAMP}
# OpenCC converts characters and common words; Hong Kong usage it misses.
HK_WORDS = {"數據源": "數據源", "服務器": "伺服器", "默認": "預設"}


def sources() -> list[Path]:
    return [
        ROOT / "streamlit_app.py",
        *sorted((ROOT / "pages").glob("*.py")),
        *sorted((ROOT / "ui").glob("*.py")),
    ]


def extract() -> Catalog:
    """Every msgid in the app's sources, in a fresh template catalog."""
    catalog = Catalog(fuzzy=False, **HEADER)
    for path in sources():
        rel = path.relative_to(ROOT).as_posix()
        # Babel notes each f-string *argument* it passes over (our fields are filled
        # after translation, by keyword); the msgids themselves are plain strings.
        with contextlib.redirect_stderr(io.StringIO()):
            found = list(extract_from_file("python", path, keywords=KEYWORDS, comment_tags=("TRANSLATORS:",)))
        for lineno, message, comments, context in found:
            catalog.add(message, None, [(rel, lineno)], auto_comments=comments, context=context)
    return catalog


def po_path(folder: str) -> Path:
    return LOCALES / folder / "LC_MESSAGES" / "messages.po"


def read(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as fh:
        return read_po(fh, locale=locale)


def dump_po(catalog: Catalog) -> bytes:
    buf = io.BytesIO()
    write_po(buf, catalog, width=100, include_lineno=False, omit_header=False, sort_output=True)
    return buf.getvalue()


def dump_mo(catalog: Catalog) -> bytes:
    buf = io.BytesIO()
    write_mo(buf, catalog)
    return buf.getvalue()


def updated_hans(template: Catalog) -> Catalog:
    path = po_path("zh_Hans")
    hans = read(path, "zh_Hans") if path.exists() else Catalog(locale="zh_Hans", fuzzy=False, **HEADER)
    hans.update(template, no_fuzzy_matching=False, update_header_comment=False)
    hans.obsolete.clear()
    return hans


def hant_from(hans: Catalog) -> Catalog:
    """The Traditional (Hong Kong) catalog: every zh_Hans translation through OpenCC ``s2hk``."""
    import opencc

    convert = opencc.OpenCC("s2hk").convert
    hant = Catalog(locale="zh_Hant", fuzzy=False, **HEADER)

    def hk(text: str) -> str:
        out = convert(text)
        for word, hk_word in HK_WORDS.items():
            out = out.replace(word, hk_word)
        return out

    for msg in hans:
        if not msg.id:
            continue
        if isinstance(msg.string, tuple | list):
            string: str | tuple[str, ...] = tuple(hk(s) for s in msg.string)
        else:
            string = hk(msg.string or "")
        hant.add(msg.id, string, msg.locations, flags=msg.flags, context=msg.context)
    return hant


def build() -> dict[Path, bytes]:
    """Every catalog file as the current sources make it."""
    template = extract()
    hans = updated_hans(template)
    hant = hant_from(hans)
    return {
        POT: dump_po(template),
        po_path("zh_Hans"): dump_po(hans),
        po_path("zh_Hant"): dump_po(hant),
        po_path("zh_Hans").with_suffix(".mo"): dump_mo(hans),
        po_path("zh_Hant").with_suffix(".mo"): dump_mo(hant),
    }


def main() -> int:
    for path, data in build().items():
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_bytes() != data:
            path.write_bytes(data)
            print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
