"""The floor ``benchmarks/tabs.py`` compares the dashboard against: a minimal Streamlit app.

One fragment redraws a 60-row ``st.dataframe`` every second (prices walk at random), with
as many columns as the quotes grid; nothing else. Run by the benchmark, not by users:

    streamlit run benchmarks/minimal_app.py
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

ROWS = 60

st.set_page_config(page_title="minimal", layout="wide")


@st.cache_resource
def _base() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "Symbol": [f"S{i:03d}" for i in range(ROWS)],
            "Name": [f"Company {i}" for i in range(ROWS)],
            "Market": ["US" if i % 2 else "HK" for i in range(ROWS)],
            "Prev close": rng.uniform(10, 500, ROWS).round(2),
        }
    )


def table() -> None:
    df = _base().copy()
    rng = np.random.default_rng()
    df["Last"] = (df["Prev close"] * (1 + rng.normal(0, 0.01, ROWS))).round(2)
    df["Change"] = (df["Last"] - df["Prev close"]).round(2)
    df["% Chg"] = (df["Change"] / df["Prev close"] * 100).round(2)
    df["Time"] = pd.Timestamp.now(tz="UTC").strftime("%H:%M:%S")
    df["Status"] = "live"
    st.dataframe(df, hide_index=True, width="stretch", key="grid")


st.title("Minimal")
st.fragment(table, run_every=1.0)()
