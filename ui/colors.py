"""Colour conventions: which colour means "up".

US desks paint gains green; mainland China and Hong Kong paint them red. Every place
where colour means direction (table text, heatmap tiles, sparklines, metric deltas)
asks the one :class:`Convention` the viewer picked, so the dashboard never mixes both.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "FRESHNESS_COLORS",
    "GREEN",
    "NEUTRAL",
    "RED",
    "TILE_NEUTRAL",
    "Convention",
    "Palette",
    "direction_color",
]

# Mid-tones that read on both the dark and the light theme.
GREEN = "#2fb170"
RED = "#ef5350"
NEUTRAL = "#8b93a1"
# Heatmap mid colour: a flat slate that sits between the two without meaning either.
TILE_NEUTRAL = "#3b4252"

# Freshness is a state, not a direction: keep it out of the red/green axis.
FRESHNESS_COLORS = {
    "live": "#4da3ff",
    "quiet": "#8b93a1",
    "market closed": "#8b93a1",
    "lunch break": "#8b93a1",
    "holiday": "#8b93a1",
    "waiting": "#8b93a1",
    "recovering": "#f0a030",
    "feed down": "#f0a030",
    "not streamed": "#f0a030",
}


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
        return Palette(up=GREEN, down=RED) if self is Convention.GREEN_UP else Palette(up=RED, down=GREEN)

    @property
    def sparkline_color(self) -> str:
        """``LineChartColumn(color=...)``: "auto" paints rising lines green, "auto-inverse" red."""
        return "auto" if self is Convention.GREEN_UP else "auto-inverse"

    @property
    def delta_color(self) -> str:
        """``st.metric(delta_color=...)``: Streamlit's "normal" is green-up."""
        return "normal" if self is Convention.GREEN_UP else "inverse"

    @property
    def help(self) -> str:
        return (
            "Gains green, losses red (US, Europe)."
            if self is Convention.GREEN_UP
            else "Gains red, losses green (mainland China, Hong Kong, Japan)."
        )


def direction_color(value: float | None, convention: Convention) -> str:
    """Text colour for a signed move; zero and missing values stay neutral."""
    palette = convention.palette
    if value is None or (isinstance(value, float) and math.isnan(value)) or value == 0:
        return palette.neutral
    return palette.up if value > 0 else palette.down
