import pytest

from feed.symbols import InvalidSymbol, Market, parse_symbol, parse_watchlist

VALID = [
    ("aapl", "AAPL.US", Market.US),
    ("AAPL.US", "AAPL.US", Market.US),
    ("BRK.B.US", "BRK.B.US", Market.US),
    ("brk.b.us", "BRK.B.US", Market.US),
    ("ABRpD.US", "ABRpD.US", Market.US),
    (".DJI.US", ".DJI.US", Market.US),
    ("700.HK", "700.HK", Market.HK),
    ("0700.HK", "700.HK", Market.HK),
    ("00700", "700.HK", Market.HK),
    ("hk00700", "700.HK", Market.HK),
    ("9988.hk", "9988.HK", Market.HK),
    ("5", "5.HK", Market.HK),
    ("HSI.HK", "HSI.HK", Market.HK),
    ("600519", "600519.SH", Market.CN),
    ("600519.SH", "600519.SH", Market.CN),
    ("000001.SZ", "000001.SZ", Market.CN),
    ("000001.SH", "000001.SH", Market.CN),
    ("300750", "300750.SZ", Market.CN),
    ("sh600519", "600519.SH", Market.CN),
    ("USDHKD", "USDHKD", Market.FX),
    ("usdcnh", "USDCNH", Market.FX),
    ("Silver", "Silver", Market.FX),
    ("SILVER", "Silver", Market.FX),
    ("gold", "GOLD", Market.FX),
    ("XAUUSD", "GOLD", Market.FX),
    ("BTCUSDT", "BTCUSDT", Market.CRYPTO),
    ("btcusd", "BTCUSDT", Market.CRYPTO),
    ("  tsla  ", "TSLA.US", Market.US),
]


@pytest.mark.parametrize(("text", "code", "market"), VALID, ids=[v[0].strip() for v in VALID])
def test_user_forms_are_normalized_to_alltick_codes(text, code, market):
    sym = parse_symbol(text)
    assert (sym.code, sym.market) == (code, market)


INVALID = [
    ("", "empty"),
    ("   ", "empty"),
    ("AAPL.XX", "unknown market suffix"),
    ("0.HK", "does not exist"),
    ("123456789.HK", "up to five digits"),
    ("1234567", "too many digits"),
    ("800000", "start with 6"),
    ("12345.SH", "six digits"),
    ("A$PL", "letters, digits and dots"),
    ("腾讯", "letters, digits and dots"),
    ("<script>", "letters, digits and dots"),
    ("X" * 500, "longer than"),
    ("AAPLXYZW", "not a known"),
]


@pytest.mark.parametrize(("text", "reason"), INVALID, ids=[v[0][:12] or "blank" for v in INVALID])
def test_bad_input_raises_a_message_naming_it(text, reason):
    with pytest.raises(InvalidSymbol) as info:
        parse_symbol(text)
    assert reason in str(info.value)
    if text.strip() and len(text) < 32:
        assert text.strip() in str(info.value)


def test_market_knows_its_endpoint_and_zone():
    assert Market.US.endpoint == Market.HK.endpoint == Market.CN.endpoint == "stock"
    assert Market.FX.endpoint == Market.CRYPTO.endpoint == "forex"
    assert str(Market.HK.tz) == "Asia/Hong_Kong"


def test_watchlist_keeps_good_symbols_beside_bad_ones():
    symbols, errors = parse_watchlist("aapl, 0700.hk;BAD$, 9988.HK 700.HK,,")
    assert [s.code for s in symbols] == ["AAPL.US", "700.HK", "9988.HK"]
    assert len(errors) == 1 and "BAD$" in str(errors[0])


def test_watchlist_accepts_hundreds_of_symbols():
    text = ",".join(str(i) for i in range(1, 400))
    symbols, errors = parse_watchlist(text)
    assert len(symbols) == 399 and not errors
