"""Colour conventions: which colour means "up".

US desks paint gains green; mainland China and Hong Kong paint them red. Every place
where colour means direction (table text, heatmap tiles, sparklines, metric deltas)
asks the one :class:`Convention` the viewer picked, so the dashboard never mixes both.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

from ui.i18n import EN, Translator

__all__ = [
    "BACKGROUNDS",
    "FRESHNESS_COLORS",
    "GREEN",
    "NEUTRAL",
    "RED",
    "TILE_NEUTRAL",
    "Convention",
    "Palette",
    "contrast",
    "direction_color",
    "freshness_color",
    "theme_of",
]

# Direction colours of tiles, sparklines and the dark theme's text.
GREEN = "#2fb170"
RED = "#ef5350"
NEUTRAL = "#8b93a1"
# Text on the light theme needs darker tones to stay readable (>= 4.5:1 on white).
GREEN_ON_LIGHT = "#137a3f"
RED_ON_LIGHT = "#c62828"
NEUTRAL_ON_LIGHT = "#5c6470"
# Heatmap mid colour: a flat slate that sits between the two without meaning either.
TILE_NEUTRAL = "#3b4252"
# The app backgrounds of .streamlit/config.toml, per theme.
BACKGROUNDS = {"dark": "#0f1318", "light": "#ffffff"}

# Freshness is a state, not a direction: keep it out of the red/green axis.
_INFO = {"dark": "#4da3ff", "light": "#1560bd"}
_WARN = {"dark": "#f0a030", "light": "#a35a00"}
_BAD = {"dark": "#ff7a70", "light": "#b3261e"}
_CALM = {"dark": NEUTRAL, "light": NEUTRAL_ON_LIGHT}
FRESHNESS_COLORS: dict[str, dict[str, str]] = {
    "live": _INFO,
    "quiet": _CALM,
    "market closed": _CALM,
    "lunch break": _CALM,
    "holiday": _CALM,
    "waiting": _CALM,
    "paused": _CALM,
    "recovering": _WARN,
    "feed down": _WARN,
    "not streamed": _WARN,
    "unreachable": _BAD,
    "auth failed": _BAD,
}


def theme_of(value: object) -> str:
    """``"light"`` or ``"dark"`` (the default, the app's first theme) from ``st.context.theme.type``."""
    return "light" if str(value or "").lower() == "light" else "dark"


def freshness_color(value: str, theme: str = "dark") -> str:
    return FRESHNESS_COLORS.get(str(value), _CALM)[theme_of(theme)]


def _luminance(hex_color: str) -> float:
    rgb = [int(hex_color.lstrip("#")[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast(a: str, b: str) -> float:
    """WCAG contrast ratio of two ``#rrggbb`` colours (1 to 21)."""
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


@dataclass(frozen=True, slots=True)
class Palette:
    """The three colours a convention maps direction onto."""

    up: str
    down: str
    neutral: str = NEUTRAL


class Convention(StrEnum):
    """Which colour means a rise; the value is what the sidebar shows."""

    GREEN_UP = "Green up"
    RED_UP = "Red up"

    @property
    def palette(self) -> Palette:
        """Fill colours (tiles, dots), the same on both themes."""
        return Palette(up=GREEN, down=RED) if self is Convention.GREEN_UP else Palette(up=RED, down=GREEN)

    def text_palette(self, theme: str = "dark") -> Palette:
        """Text colours for the theme the viewer's browser shows."""
        if theme_of(theme) == "dark":
            return self.palette
        green, red = GREEN_ON_LIGHT, RED_ON_LIGHT
        up, down = (green, red) if self is Convention.GREEN_UP else (red, green)
        return Palette(up=up, down=down, neutral=NEUTRAL_ON_LIGHT)

    def label(self, tr: Translator = EN) -> str:
        """The sidebar's name for it: "Green up (US)" / "Red up (CN/HK)"."""
        if self is Convention.GREEN_UP:
            return tr._("Green up (US)")
        return tr._("Red up (CN/HK)")

    @property
    def sparkline_color(self) -> str:
        """``LineChartColumn(color=...)``: "auto" paints rising lines green, "auto-inverse" red."""
        return "auto" if self is Convention.GREEN_UP else "auto-inverse"

    @property
    def delta_color(self) -> str:
        """``st.metric(delta_color=...)``: Streamlit's "normal" is green-up."""
        return "normal" if self is Convention.GREEN_UP else "inverse"


def direction_color(value: float | None, convention: Convention, theme: str = "dark") -> str:
    """Text colour for a signed move; zero and missing values stay neutral."""
    palette = convention.text_palette(theme)
    if value is None or (isinstance(value, float) and math.isnan(value)) or value == 0:
        return palette.neutral
    return palette.up if value > 0 else palette.down
