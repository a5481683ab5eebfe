"""feed.premium: the pair file, the formulas (hand-computed), timing marks and the intraday path."""

from __future__ import annotations

import csv
import datetime as dt
import math
from importlib import resources

import pandas as pd
import pytest

from feed.model import SNAPSHOT_COLUMNS
from feed.premium import (
    FX_CODES,
    TABLE_COLUMNS,
    Kind,
    LegQuote,
    Pair,
    PairFileError,
    RatioPeriod,
    kind_averages,
    load_pairs,
    premium_path,
    premium_table,
    ratio_on,
)
from feed.symbols import Market, parse_symbol
from feed.universe import DUAL_LISTED

UTC = dt.UTC
NOW = dt.datetime(2024, 6, 5, 2, 0, tzinfo=UTC)  # Wed 10:00 in Hong Kong and Shanghai, Tue 22:00 in New York
ADR = Pair("AAA.US", "1111.HK", Kind.ADR, (RatioPeriod(8.0, None),))
AH = Pair("600001.SH", "2222.HK", Kind.AH, (RatioPeriod(1.0, None),))
FRESH_FX = {"USDHKD": LegQuote(7.8, NOW), "USDCNH": LegQuote(7.2, NOW)}


def at(minutes: float) -> dt.datetime:
    return NOW + dt.timedelta(minutes=minutes)


def packaged_rows() -> list[dict[str, str]]:
    text = resources.files("feed.data").joinpath("cross_listings.csv").read_text("utf-8")
    return list(csv.DictReader(text.splitlines()))


def row(table: pd.DataFrame, symbol: str) -> pd.Series:
    (found,) = table.index[table["symbol"] == symbol]
    return table.loc[found]


# --- the pair file ---------------------------------------------------------------------------


def test_packaged_file_loads_and_every_code_parses_to_itself():
    pairs, errors = load_pairs()
    assert errors == []
    assert len(pairs) == 28
    for pair in pairs:
        symbol, peer = parse_symbol(pair.symbol), parse_symbol(pair.peer)
        assert (symbol.code, peer.code) == (pair.symbol, pair.peer)  # written canonically (no "0939.HK")
        assert peer.market is Market.HK
        assert symbol.market is (Market.US if pair.kind is Kind.ADR else Market.CN)


def test_every_packaged_row_has_a_source_with_an_address():
    rows = packaged_rows()
    assert len(rows) == 34
    for r in rows:
        assert r["source"].strip(), r
        assert "http" in r["source"], r
        assert r["checked"].strip(), r


def test_ratios_and_pairs_are_the_ones_the_filings_give():
    current = {p.symbol: (p.peer, p.ratio) for p in load_pairs()[0]}
    expected = {
        "BABA.US": ("9988.HK", 8), "NTES.US": ("9999.HK", 5), "TCOM.US": ("9961.HK", 1),
        "BIDU.US": ("9888.HK", 8), "HTHT.US": ("1179.HK", 10), "JD.US": ("9618.HK", 2),
        "NIO.US": ("9866.HK", 1), "LI.US": ("2015.HK", 2), "XPEV.US": ("9868.HK", 2),
        "BILI.US": ("9626.HK", 1), "ZTO.US": ("2057.HK", 1), "BEKE.US": ("2423.HK", 3),
        "TME.US": ("1698.HK", 2), "WB.US": ("9898.HK", 1), "BZ.US": ("2076.HK", 2), "YUMC.US": ("9987.HK", 1),
        "601318.SH": ("2318.HK", 1), "600036.SH": ("3968.HK", 1), "601398.SH": ("1398.HK", 1),
        "601939.SH": ("939.HK", 1), "601988.SH": ("3988.HK", 1), "600028.SH": ("386.HK", 1),
        "601857.SH": ("857.HK", 1), "601628.SH": ("2628.HK", 1), "600941.SH": ("941.HK", 1),
        "601088.SH": ("1088.HK", 1), "600938.SH": ("883.HK", 1), "002594.SZ": ("1211.HK", 1),
    }  # fmt: skip
    assert current == expected
    # The known public-table error: 939 is China Construction Bank, whose A code is 601939, not ICBC's.
    assert current["601398.SH"][0] != "939.HK"


def test_simulator_dual_listings_agree_with_the_pair_file():
    current = {(p.symbol, p.peer): p.ratio for p in load_pairs()[0]}
    assert {(d.us, d.hk): d.ratio for d in DUAL_LISTED}.items() <= current.items()


def test_ratio_change_date_uses_the_old_ratio_before_it():
    pairs = {p.symbol: p for p in load_pairs()[0]}
    baba, ntes, tcom = pairs["BABA.US"], pairs["NTES.US"], pairs["TCOM.US"]
    assert ratio_on(baba, dt.date(2019, 7, 29)) == 1
    assert ratio_on(baba, dt.date(2019, 7, 30)) == 8
    assert ratio_on(ntes, dt.date(2020, 10, 1)) == 25
    assert ratio_on(ntes, dt.date(2020, 10, 2)) == 5
    assert ratio_on(tcom, dt.date(2021, 3, 17)) == 0.125  # 8 ADSs per share
    assert ratio_on(tcom, dt.date(2021, 3, 18)) == 1
    # 03:00 UTC on the 30th is still the 29th in New York: the old ratio.
    assert ratio_on(baba, dt.datetime(2019, 7, 30, 3, 0, tzinfo=UTC)) == 1
    assert ratio_on(baba, dt.datetime(2019, 7, 30, 14, 0, tzinfo=UTC)) == 8
    dated = Pair("AAA.US", "1111.HK", Kind.ADR, (RatioPeriod(2.0, dt.date(2022, 1, 3)),))
    assert math.isnan(ratio_on(dated, dt.date(2022, 1, 2)))  # no ratio known before the first period


def test_bad_user_file_names_file_and_line_and_loses_nothing(tmp_path):
    user = tmp_path / "my_pairs.csv"
    user.write_text(
        "symbol,peer,kind,ratio,valid_from,note,source\n"
        "PDD.US,1234.HK,ADR,4,,made-up pair,\n"  # line 2: fine (a user row may omit the source)
        "XYZ.US,5678.HK,ADR,zero,,,\n"  # line 3: ratio is not a number
        "601398.SH,939.HK,AH,1,,the famous mistake,\n"  # line 4: 601398 is ICBC's, already paired with 1398
        "600001.SH,2222.HK,AH,2,,,\n"  # line 5: A/H must be 1:1
        "BABA.US,9988.HK,ADR,4,2030-01-02,a future ratio change,\n"  # line 6: adds a period to a shipped pair
        "QQQ.HK,3333.HK,ADR,1,,,\n"  # line 7: the ADR leg is not a US code
        "601111.SH,939.HK,AH,1,,,\n"  # line 8: 939 is already CCB's H share
    )
    pairs, errors = load_pairs(extra=user)
    assert [(e.file, e.line) for e in errors] == [(str(user), n) for n in (3, 4, 5, 7, 8)]
    assert str(errors[0]).startswith(f"{user}:3: ratio 'zero' is not a number")
    assert "already paired with 1398.HK" in str(errors[1])
    assert "939.HK is already the A/H peer of 601939.SH" in str(errors[4])
    by_symbol = {p.symbol: p for p in pairs}
    assert len(pairs) == 29 and by_symbol["601398.SH"].peer == "1398.HK"
    assert by_symbol["PDD.US"].periods[0].source == f"user file {user}:2"
    baba = by_symbol["BABA.US"]
    assert [p.ratio for p in baba.periods] == [1, 8, 4]
    assert ratio_on(baba, dt.date(2030, 1, 1)) == 8 and ratio_on(baba, dt.date(2030, 1, 2)) == 4


def test_unreadable_or_headless_user_file_still_loads_the_packaged_pairs(tmp_path):
    pairs, errors = load_pairs(extra=tmp_path / "missing.csv")
    assert len(pairs) == 28 and len(errors) == 1 and "missing.csv" in str(errors[0])
    headless = tmp_path / "headless.csv"
    headless.write_text("BABA.US,9988.HK,ADR,8\n")
    pairs, errors = load_pairs(extra=headless)
    assert len(pairs) == 28 and errors[0].line == 1 and "missing column(s)" in str(errors[0])


def test_two_rows_for_the_same_period_in_one_file_are_refused(tmp_path):
    user = tmp_path / "dup.csv"
    rows = "PDD.US,1234.HK,ADR,4,2024-01-02,,\n"
    user.write_text("symbol,peer,kind,ratio,valid_from,note,source\n" + rows + rows)
    pairs, errors = load_pairs(extra=user)
    assert [e.line for e in errors] == [3] and "two rows valid from 2024-01-02" in str(errors[0])
    assert [p.ratio for p in pairs if p.symbol == "PDD.US"] == [4]


def test_a_shipped_row_without_source_is_refused(tmp_path):
    bad = tmp_path / "shipped.csv"
    bad.write_text("symbol,peer,kind,ratio,valid_from,note,source\nJD.US,9618.HK,ADR,2,,,\n")
    with pytest.raises(PairFileError, match=r"shipped\.csv:2: .*source is empty"):
        load_pairs(path=bad)


# --- formulas --------------------------------------------------------------------------------


def quotes(us=None, hk=None, a=None, h=None, t=NOW) -> dict[str, LegQuote]:
    prices = {"AAA.US": us, "1111.HK": hk, "600001.SH": a, "2222.HK": h}
    return {code: LegQuote(p, t) for code, p in prices.items() if p is not None}


def test_adr_premium_and_implied_price_by_hand():
    # implied HK = 100 × 7.8 / 8 = 97.5 HKD
    # premium = (100 × 7.8 / (8 × 78) − 1) × 100 = (780 / 624 − 1) × 100 = +25 %
    t = premium_table([ADR], quotes(us=100.0, hk=78.0), FRESH_FX, NOW)
    r = row(t, "AAA.US")
    assert r["implied_peer_price"] == pytest.approx(97.5, abs=1e-12)
    assert r["premium_pct"] == pytest.approx(25.0, abs=1e-9)
    assert (r["ratio"], r["fx"], r["usdhkd"]) == (8.0, 7.8, 7.8) and math.isnan(r["usdcnh"])
    # a discount: HK 104 -> (780 / 832 − 1) × 100 = −6.25 %
    t = premium_table([ADR], quotes(us=100.0, hk=104.0), FRESH_FX, NOW)
    assert row(t, "AAA.US")["premium_pct"] == pytest.approx(-6.25, abs=1e-9)


def test_ah_premium_by_hand():
    # A in HKD = 36 × 7.8 / 7.2 = 39
    # premium = (36 × 7.8 / (30 × 7.2) − 1) × 100 = (280.8 / 216 − 1) × 100 = +30 %
    r = row(premium_table([AH], quotes(a=36.0, h=30.0), FRESH_FX, NOW), "600001.SH")
    assert r["implied_peer_price"] == pytest.approx(39.0, abs=1e-12)
    assert r["premium_pct"] == pytest.approx(30.0, abs=1e-9)
    assert r["fx"] == pytest.approx(7.8 / 7.2) and (r["usdhkd"], r["usdcnh"]) == (7.8, 7.2)
    # A at 18: (140.4 / 216 − 1) × 100 = −35 % (A trades below H)
    r = row(premium_table([AH], quotes(a=18.0, h=30.0), FRESH_FX, NOW), "600001.SH")
    assert r["premium_pct"] == pytest.approx(-35.0, abs=1e-9)


def test_premium_is_the_formula_exactly_on_snapshot_prices():
    us, hk, a, h, usdhkd, usdcnh = 131.37, 128.9, 41.23, 38.67, 7.81234, 7.25611
    snap = pd.DataFrame(
        [
            {"symbol": "AAA.US", "market": "US", "last": us, "ts": pd.Timestamp(at(-1))},
            {"symbol": "1111.HK", "market": "HK", "last": hk, "ts": pd.Timestamp(at(0))},
            {"symbol": "600001.SH", "market": "CN", "last": a, "ts": pd.Timestamp(at(0))},
            {"symbol": "2222.HK", "market": "HK", "last": h, "ts": pd.Timestamp(at(0))},
            {"symbol": "USDHKD", "market": "FX", "last": usdhkd, "ts": pd.Timestamp(at(0))},
            {"symbol": "USDCNH", "market": "FX", "last": usdcnh, "ts": pd.Timestamp(at(0))},
        ]
    ).reindex(columns=list(SNAPSHOT_COLUMNS))
    t = premium_table([ADR, AH], snap, snap, NOW)  # one snapshot frame feeds both legs and FX
    assert list(t.columns) == list(TABLE_COLUMNS)
    assert row(t, "AAA.US")["premium_pct"] == (us * usdhkd / (8.0 * hk) - 1) * 100
    assert row(t, "AAA.US")["implied_peer_price"] == us * usdhkd / 8.0
    assert row(t, "600001.SH")["premium_pct"] == (a * usdhkd / (h * usdcnh) - 1) * 100


def test_missing_leg_or_fx_gives_nan_never_zero():
    t = premium_table([ADR, AH], quotes(us=100.0, h=30.0), FRESH_FX, NOW)
    adr, ah = row(t, "AAA.US"), row(t, "600001.SH")
    assert math.isnan(adr["premium_pct"])  # HK has not traded yet
    assert adr["implied_peer_price"] == pytest.approx(97.5)  # what HK traders read before the open
    assert math.isnan(ah["premium_pct"]) and math.isnan(ah["implied_peer_price"])  # A not traded yet
    assert not adr["different_sessions"] and math.isnan(adr["gap_s"])
    no_fx = premium_table([ADR], quotes(us=100.0, hk=78.0), {}, NOW)
    assert math.isnan(row(no_fx, "AAA.US")["premium_pct"]) and row(no_fx, "AAA.US")["stale_fx"]
    zero = premium_table([ADR], quotes(us=100.0, hk=0.0), FRESH_FX, NOW)  # a zero print is no price
    assert math.isnan(row(zero, "AAA.US")["premium_pct"])


def test_stale_fx_is_marked_by_age_and_only_for_the_rates_a_row_uses():
    fx = {"USDHKD": LegQuote(7.8, at(-5)), "USDCNH": LegQuote(7.2, at(-20))}
    t = premium_table([ADR, AH], quotes(us=100.0, hk=78.0, a=36.0, h=30.0), fx, NOW)
    assert not row(t, "AAA.US")["stale_fx"]  # USDHKD is 5 min old; the ADR row does not use USDCNH
    assert row(t, "600001.SH")["stale_fx"]  # USDCNH is 20 min old > 15
    assert row(t, "600001.SH")["fx_time"] == at(-20)  # the oldest rate used
    assert row(t, "600001.SH")["premium_pct"] == pytest.approx(30.0)  # stale is marked, not hidden
    untimed = premium_table([ADR], quotes(us=100.0, hk=78.0), {"USDHKD": (7.8, None)}, NOW)
    assert row(untimed, "AAA.US")["stale_fx"]  # a rate of unknown age counts as stale


def test_different_sessions_rule():
    us_close = dt.datetime(2024, 6, 4, 20, 0, tzinfo=UTC)  # Tue 16:00 New York = Wed 04:00 Hong Kong
    legs = {
        "AAA.US": LegQuote(100.0, us_close),
        "1111.HK": LegQuote(78.0, NOW),  # Wed 10:00 Hong Kong
        "600001.SH": LegQuote(36.0, at(0)),
        "2222.HK": LegQuote(30.0, at(0.5)),
    }
    t = premium_table([ADR, AH], legs, FRESH_FX, NOW)
    adr, ah = row(t, "AAA.US"), row(t, "600001.SH")
    assert adr["different_sessions"] and adr["gap_s"] == 6 * 3600
    assert adr["symbol_local_time"].hour == 16 and str(adr["symbol_local_time"].tz) == "America/New_York"
    assert adr["peer_local_time"].hour == 10 and str(adr["peer_local_time"].tz) == "Asia/Hong_Kong"
    assert str(ah["symbol_local_time"].tz) == "Asia/Shanghai"
    assert not ah["different_sessions"] and ah["gap_s"] == 30
    # After the Shanghai close (15:00) Hong Kong trades on: 68 minutes apart on the same date is marked.
    sse_close, hk_late = dt.datetime(2024, 6, 5, 7, 0, tzinfo=UTC), dt.datetime(2024, 6, 5, 8, 8, tzinfo=UTC)
    late = {"600001.SH": LegQuote(36.0, sse_close), "2222.HK": LegQuote(30.0, hk_late)}
    assert row(premium_table([AH], late, FRESH_FX, hk_late), "600001.SH")["different_sessions"]
    near = {
        "600001.SH": LegQuote(36.0, sse_close),
        "2222.HK": LegQuote(30.0, sse_close + dt.timedelta(minutes=20)),
    }
    assert not row(premium_table([AH], near, FRESH_FX, NOW), "600001.SH")["different_sessions"]
    # 15 minutes apart but on different trade dates (Tue 19:50 New York, Wed 08:05 Hong Kong): marked.
    us_late, hk_early = dt.datetime(2024, 6, 4, 23, 50, tzinfo=UTC), dt.datetime(2024, 6, 5, 0, 5, tzinfo=UTC)
    close = {"AAA.US": LegQuote(100.0, us_late), "1111.HK": LegQuote(78.0, hk_early)}
    assert row(premium_table([ADR], close, FRESH_FX, NOW), "AAA.US")["different_sessions"]


def test_sorted_by_premium_descending_nan_last():
    pairs = [ADR, AH, Pair("BBB.US", "3333.HK", Kind.ADR, (RatioPeriod(1.0, None),))]
    legs = quotes(us=100.0, hk=78.0, a=18.0, h=30.0) | {"BBB.US": LegQuote(10.0, NOW)}  # BBB: no HK price
    t = premium_table(pairs, legs, FRESH_FX, NOW)
    assert list(t["symbol"]) == ["AAA.US", "600001.SH", "BBB.US"]  # +25, −35, NaN
    assert premium_table([], {}, {}, NOW).columns.tolist() == list(TABLE_COLUMNS)


def test_kind_averages_are_equal_weighted_and_labelled_as_such():
    pairs = [
        ADR,
        Pair("BBB.US", "3333.HK", Kind.ADR, (RatioPeriod(1.0, None),)),
        Pair("CCC.US", "4444.HK", Kind.ADR, (RatioPeriod(1.0, None),)),
        AH,
    ]
    legs = quotes(us=100.0, hk=78.0, a=18.0, h=30.0)
    legs |= {"BBB.US": LegQuote(10.0, NOW), "3333.HK": LegQuote(78.0 / 1.1, NOW)}
    legs |= {"CCC.US": LegQuote(5.0, NOW)}
    avg = kind_averages(premium_table(pairs, legs, FRESH_FX, NOW)).set_index("kind")
    # ADR: AAA +25 %, BBB (10 × 7.8 / 70.909… − 1) × 100 = +10 %, CCC has no HK price -> (25 + 10) / 2 = 17.5
    assert avg.loc["ADR", "mean_premium_pct"] == pytest.approx(17.5)
    assert (avg.loc["ADR", "pairs_used"], avg.loc["ADR", "pairs_total"]) == (2, 3)
    assert avg.loc["AH", "mean_premium_pct"] == pytest.approx(-35.0)
    assert "Equal-weighted" in avg.loc["AH", "label"] and "not the Hang Seng AH" in avg.loc["AH", "label"]


def test_times_must_be_tz_aware():
    with pytest.raises(ValueError, match="tz-aware"):
        premium_table([ADR], quotes(us=1.0), FRESH_FX, dt.datetime(2024, 6, 5, 2, 0))
    with pytest.raises(ValueError, match=r"AAA\.US"):
        premium_table([ADR], {"AAA.US": LegQuote(1.0, dt.datetime(2024, 6, 5))}, FRESH_FX, NOW)


# --- the intraday path -----------------------------------------------------------------------


def minute_path(start: dt.datetime, prices: list[float]) -> pd.DataFrame:
    times = [start + dt.timedelta(minutes=i) for i in range(len(prices))]
    return pd.DataFrame({"ts": times, "price": prices})


def test_ah_path_carries_within_session_and_breaks_across_a_gap():
    a_path = minute_path(at(0), [36.0, 36.0, 36.0, 18.0])  # 02:00..02:03 UTC
    h_path = pd.concat([minute_path(at(0), [30.0] * 6), minute_path(at(180), [30.0])])  # 02:00..02:05, 05:00
    path = premium_path(AH, a_path, h_path, {"USDHKD": 7.8, "USDCNH": 7.2})
    by_ts = path.set_index("ts")
    assert by_ts.loc[at(1), "premium_pct"] == pytest.approx(30.0)  # (36 × 7.8 / (30 × 7.2) − 1) × 100
    assert by_ts.loc[at(5), "premium_pct"] == pytest.approx(-35.0)  # A's 02:03 price carried 2 minutes
    assert math.isnan(by_ts.loc[at(180), "premium_pct"])  # A's last price is 3 h old: not carried
    gap_rows = path[(path["ts"] > at(5)) & (path["ts"] < at(180))]
    assert len(gap_rows) == 1 and gap_rows["premium_pct"].isna().all()  # the line stops at the gap
    assert not path["different_sessions"].any()
    with pytest.raises(ValueError, match="USDCNH"):
        premium_path(AH, a_path, h_path, 7.8)


def test_adr_path_never_pairs_across_sessions_unless_asked():
    us_path = minute_path(dt.datetime(2024, 6, 4, 19, 58, tzinfo=UTC), [100.0, 100.0])  # Tue 15:58 New York
    hk_path = minute_path(NOW, [78.0, 80.0])  # Wed 10:00 Hong Kong
    fx = pd.DataFrame({"ts": [at(-600)], "price": [7.8]})  # an FX path, carried forward
    strict = premium_path(ADR, us_path, hk_path, fx)
    assert strict["premium_pct"].isna().all()
    # Ten minutes old but from the previous New York date (23:55 -> 00:05): not the same session.
    late_us = minute_path(dt.datetime(2024, 6, 5, 3, 55, tzinfo=UTC), [100.0])
    early_hk = minute_path(dt.datetime(2024, 6, 5, 4, 5, tzinfo=UTC), [78.0])
    assert premium_path(ADR, late_us, early_hk, 7.8)["premium_pct"].isna().all()
    crossed = premium_path(ADR, us_path, hk_path, {"USDHKD": fx}, cross_session=True).set_index("ts")
    assert crossed.loc[NOW, "premium_pct"] == pytest.approx(25.0) and crossed.loc[NOW, "different_sessions"]
    assert crossed.loc[at(1), "premium_pct"] == pytest.approx((780 / 640 - 1) * 100)  # 100 × 7.8 / (8 × 80)


def test_fx_codes():
    assert FX_CODES == ("USDHKD", "USDCNH")
