"""Screenshots for ``docs/screenshots/`` (looked at before an issue about layout is resolved)."""

from __future__ import annotations

import time
from pathlib import Path

from playwright.sync_api import Page

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def shot(page: Page, name: str, full: bool = False) -> None:
    """A screenshot; ``full`` grows the viewport to the page (Streamlit scrolls inside its own
    container, so Playwright's ``full_page`` would stop at the window)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size
    if full:
        height = page.evaluate(
            "Math.max(...[...document.querySelectorAll('[data-testid=stMain] *')].map(e => e.scrollHeight))"
        )
        page.set_viewport_size(
            {"width": size["width"], "height": min(max(size["height"], height + 40), 4000)}
        )
        time.sleep(1.5)
    page.screenshot(path=str(SHOTS / f"{name}.png"))
    if full:
        page.set_viewport_size(size)
