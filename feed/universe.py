"""Static instrument data for the simulator: real names, plausible prices, tick sizes.

The simulator must look like a real market to the dashboard (and to anyone watching
the demo), so the universe holds real US/HK/A-share names with their currencies, lot
sizes and roughly realistic prices, plus the cross-listed ADR/HK pairs the dashboard
compares. Prices are reference levels only; the simulator walks away from them.

ADR prices are derived from their HK line (HK price x ADR ratio / USDHKD) so a pair
starts near parity, as arbitrage keeps real pairs.

Thread ownership: none; immutable data read by the simulator's threads.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from typing import NamedTuple

from feed.symbols import Market

__all__ = [
    "DUAL_LISTED",
    "UNIVERSE",
    "DualListing",
    "Instrument",
    "round_to_tick",
    "tick_size",
]


@dataclass(frozen=True, slots=True)
class Instrument:
    """One tradable code and the static facts /static_info reports about it."""

    code: str
    market: Market
    name_en: str
    name_cn: str
    currency: str
    exchange: str
    lot_size: int
    price: Decimal  # reference level around which the simulator starts
    decimals: int  # digits after the point on the wire (stocks: AllTick's 6)

    @property
    def is_stock(self) -> bool:
        return self.market in (Market.US, Market.HK, Market.CN)


class DualListing(NamedTuple):
    """An ADR and its Hong Kong line: 1 ADR = ``ratio`` HK shares."""

    us: str
    hk: str
    ratio: int


USDHKD_REF = Decimal("7.78")

DUAL_LISTED: list[DualListing] = [
    DualListing("BABA.US", "9988.HK", 8),
    DualListing("JD.US", "9618.HK", 2),
    DualListing("BIDU.US", "9888.HK", 8),
    DualListing("NTES.US", "9999.HK", 5),
    DualListing("TCOM.US", "9961.HK", 1),
    DualListing("LI.US", "2015.HK", 2),
    DualListing("NIO.US", "9866.HK", 1),
    DualListing("XPEV.US", "9868.HK", 2),
    DualListing("BILI.US", "9626.HK", 1),
    DualListing("HTHT.US", "1179.HK", 10),
    DualListing("ZTO.US", "2057.HK", 1),
    DualListing("BEKE.US", "2423.HK", 3),
    DualListing("TME.US", "1698.HK", 2),
    DualListing("WB.US", "9898.HK", 1),
    DualListing("BZ.US", "2076.HK", 2),
    DualListing("YUMC.US", "9987.HK", 1),
]

# A shares of the A/H pairs: their prices come from the H line (HKD) at a premium.
USDCNH_REF = Decimal("7.10")
AH_LISTED: list[tuple[str, str, str]] = [  # A code, H code, A premium over H in percent
    ("601318.SH", "2318.HK", "10"),
    ("600036.SH", "3968.HK", "5"),
    ("601398.SH", "1398.HK", "30"),
    ("601939.SH", "939.HK", "25"),
    ("601988.SH", "3988.HK", "35"),
    ("600028.SH", "386.HK", "45"),
    ("601857.SH", "857.HK", "60"),
    ("601628.SH", "2628.HK", "120"),
    ("600941.SH", "941.HK", "20"),
    ("601088.SH", "1088.HK", "15"),
    ("600938.SH", "883.HK", "50"),
    ("002594.SZ", "1211.HK", "5"),
]

# code, English name, Chinese name, exchange, reference price
_US: list[tuple[str, str, str, str, str]] = [
    ("AAPL", "Apple Inc.", "苹果", "NASDAQ", "228.50"),
    ("MSFT", "Microsoft Corporation", "微软", "NASDAQ", "425.30"),
    ("NVDA", "NVIDIA Corporation", "英伟达", "NASDAQ", "138.20"),
    ("AMZN", "Amazon.com, Inc.", "亚马逊", "NASDAQ", "196.40"),
    ("GOOGL", "Alphabet Inc. Class A", "谷歌-A", "NASDAQ", "172.60"),
    ("META", "Meta Platforms, Inc.", "Meta Platforms", "NASDAQ", "575.80"),
    ("TSLA", "Tesla, Inc.", "特斯拉", "NASDAQ", "251.40"),
    ("BRK.B", "Berkshire Hathaway Inc. Class B", "伯克希尔-B", "NYSE", "462.10"),
    ("JPM", "JPMorgan Chase & Co.", "摩根大通", "NYSE", "221.70"),
    ("V", "Visa Inc.", "Visa", "NYSE", "289.30"),
    ("MA", "Mastercard Incorporated", "万事达", "NYSE", "505.20"),
    ("UNH", "UnitedHealth Group Incorporated", "联合健康", "NYSE", "570.40"),
    ("XOM", "Exxon Mobil Corporation", "埃克森美孚", "NYSE", "118.60"),
    ("JNJ", "Johnson & Johnson", "强生", "NYSE", "158.90"),
    ("WMT", "Walmart Inc.", "沃尔玛", "NYSE", "82.10"),
    ("PG", "The Procter & Gamble Company", "宝洁", "NYSE", "168.30"),
    ("HD", "The Home Depot, Inc.", "家得宝", "NYSE", "398.70"),
    ("COST", "Costco Wholesale Corporation", "好市多", "NASDAQ", "889.40"),
    ("AVGO", "Broadcom Inc.", "博通", "NASDAQ", "169.20"),
    ("ORCL", "Oracle Corporation", "甲骨文", "NYSE", "176.50"),
    ("NFLX", "Netflix, Inc.", "奈飞", "NASDAQ", "712.30"),
    ("AMD", "Advanced Micro Devices, Inc.", "超威半导体", "NASDAQ", "152.80"),
    ("INTC", "Intel Corporation", "英特尔", "NASDAQ", "22.40"),
    ("KO", "The Coca-Cola Company", "可口可乐", "NYSE", "69.80"),
    ("PEP", "PepsiCo, Inc.", "百事", "NASDAQ", "164.20"),
    ("DIS", "The Walt Disney Company", "迪士尼", "NYSE", "96.10"),
    ("BAC", "Bank of America Corporation", "美国银行", "NYSE", "41.30"),
    ("CSCO", "Cisco Systems, Inc.", "思科", "NASDAQ", "56.70"),
    ("CRM", "Salesforce, Inc.", "赛富时", "NYSE", "292.10"),
    ("ADBE", "Adobe Inc.", "奥多比", "NASDAQ", "505.60"),
    ("QCOM", "QUALCOMM Incorporated", "高通", "NASDAQ", "166.40"),
    ("TSM", "Taiwan Semiconductor Manufacturing Co. ADR", "台积电", "NYSE", "191.20"),
    ("PDD", "PDD Holdings Inc.", "拼多多", "NASDAQ", "112.50"),
    ("SPY", "SPDR S&P 500 ETF Trust", "标普500ETF-SPDR", "NYSE", "572.40"),
    ("QQQ", "Invesco QQQ Trust", "纳指100ETF-Invesco", "NASDAQ", "491.30"),
]

# ADRs of the dual-listed pairs; their prices come from the HK line.
_US_ADR_NAMES: dict[str, tuple[str, str, str]] = {
    "BABA.US": ("Alibaba Group Holding Ltd. ADR", "阿里巴巴", "NYSE"),
    "JD.US": ("JD.com, Inc. ADR", "京东", "NASDAQ"),
    "BIDU.US": ("Baidu, Inc. ADR", "百度", "NASDAQ"),
    "NTES.US": ("NetEase, Inc. ADR", "网易", "NASDAQ"),
    "TCOM.US": ("Trip.com Group Ltd. ADR", "携程", "NASDAQ"),
    "LI.US": ("Li Auto Inc. ADR", "理想汽车", "NASDAQ"),
    "NIO.US": ("NIO Inc. ADR", "蔚来", "NYSE"),
    "XPEV.US": ("XPeng Inc. ADR", "小鹏汽车", "NYSE"),
    "BILI.US": ("Bilibili Inc. ADR", "哔哩哔哩", "NASDAQ"),
    "HTHT.US": ("H World Group Ltd. ADR", "华住", "NASDAQ"),
    "ZTO.US": ("ZTO Express (Cayman) Inc. ADR", "中通快递", "NYSE"),
    "BEKE.US": ("KE Holdings Inc. ADR", "贝壳", "NYSE"),
    "TME.US": ("Tencent Music Entertainment Group ADR", "腾讯音乐", "NYSE"),
    "WB.US": ("Weibo Corporation ADR", "微博", "NASDAQ"),
    "BZ.US": ("Kanzhun Ltd. ADR", "看准科技", "NASDAQ"),
    "YUMC.US": ("Yum China Holdings, Inc.", "百胜中国", "NYSE"),
}

# number, English name, Chinese name, lot size, reference price (HKD)
_HK: list[tuple[int, str, str, int, str]] = [
    (700, "Tencent Holdings Ltd.", "腾讯控股", 100, "418.60"),
    (9988, "Alibaba Group Holding Ltd.", "阿里巴巴-W", 100, "101.20"),
    (3690, "Meituan", "美团-W", 100, "152.30"),
    (1810, "Xiaomi Corporation", "小米集团-W", 200, "25.85"),
    (9618, "JD.com, Inc.", "京东集团-SW", 50, "141.40"),
    (1211, "BYD Company Ltd.", "比亚迪股份", 500, "271.60"),
    (5, "HSBC Holdings plc", "汇丰控股", 400, "70.15"),
    (1299, "AIA Group Ltd.", "友邦保险", 200, "60.25"),
    (941, "China Mobile Ltd.", "中国移动", 500, "72.35"),
    (388, "Hong Kong Exchanges and Clearing Ltd.", "香港交易所", 100, "302.40"),
    (2318, "Ping An Insurance (Group) Co. of China, Ltd.", "中国平安", 500, "45.30"),
    (9999, "NetEase, Inc.", "网易-S", 100, "151.20"),
    (9888, "Baidu, Inc.", "百度集团-SW", 50, "90.45"),
    (1024, "Kuaishou Technology", "快手-W", 100, "50.35"),
    (2020, "ANTA Sports Products Ltd.", "安踏体育", 200, "85.60"),
    (9961, "Trip.com Group Ltd.", "携程集团-S", 50, "452.80"),
    (2015, "Li Auto Inc.", "理想汽车-W", 50, "90.15"),
    (9866, "NIO Inc.", "蔚来-SW", 10, "35.40"),
    (9868, "XPeng Inc.", "小鹏汽车-W", 100, "40.25"),
    (9626, "Bilibili Inc.", "哔哩哔哩-W", 20, "140.30"),
    (1398, "Industrial and Commercial Bank of China Ltd.", "工商银行", 1000, "5.52"),
    (939, "China Construction Bank Corporation", "建设银行", 1000, "6.21"),
    (3988, "Bank of China Ltd.", "中国银行", 1000, "3.91"),
    (883, "CNOOC Ltd.", "中国海洋石油", 1000, "19.08"),
    (857, "PetroChina Company Ltd.", "中国石油股份", 2000, "6.52"),
    (2628, "China Life Insurance Company Ltd.", "中国人寿", 1000, "14.22"),
    (11, "Hang Seng Bank Ltd.", "恒生银行", 100, "99.85"),
    (16, "Sun Hung Kai Properties Ltd.", "新鸿基地产", 500, "84.70"),
    (1, "CK Hutchison Holdings Ltd.", "长和", 500, "44.85"),
    (27, "Galaxy Entertainment Group Ltd.", "银河娱乐", 1000, "40.15"),
    (2269, "WuXi Biologics (Cayman) Inc.", "药明生物", 500, "15.32"),
    (981, "Semiconductor Manufacturing International Corporation", "中芯国际", 500, "22.35"),
    (1088, "China Shenhua Energy Company Ltd.", "中国神华", 500, "30.45"),
    (2388, "BOC Hong Kong (Holdings) Ltd.", "中银香港", 500, "24.35"),
    (66, "MTR Corporation Ltd.", "港铁公司", 500, "27.15"),
    (2, "CLP Holdings Ltd.", "中电控股", 500, "62.10"),
    (3, "The Hong Kong and China Gas Company Ltd.", "香港中华煤气", 1000, "5.83"),
    (9633, "Nongfu Spring Co., Ltd.", "农夫山泉", 200, "30.25"),
    (268, "Kingdee International Software Group Co., Ltd.", "金蝶国际", 2000, "9.12"),
    (1179, "H World Group Ltd.", "华住集团-S", 100, "28.40"),
    (2057, "ZTO Express (Cayman) Inc.", "中通快递-W", 50, "152.60"),
    (2423, "KE Holdings Inc.", "贝壳-W", 100, "48.30"),
    (1698, "Tencent Music Entertainment Group", "腾讯音乐-SW", 100, "44.15"),
    (9898, "Weibo Corporation", "微博-SW", 20, "75.20"),
    (2076, "Kanzhun Ltd.", "BOSS直聘-W", 200, "56.35"),
    (9987, "Yum China Holdings, Inc.", "百胜中国-S", 50, "352.40"),
    (3968, "China Merchants Bank Co., Ltd.", "招商银行", 500, "36.85"),
    (386, "China Petroleum & Chemical Corporation", "中国石油化工股份", 2000, "4.52"),
]

# code, English name, Chinese name, exchange, reference price (CNY)
_CN: list[tuple[str, str, str, str, str]] = [
    ("600519.SH", "Kweichow Moutai Co., Ltd.", "贵州茅台", "SSE", "1528.00"),
    ("601318.SH", "Ping An Insurance (Group) Co. of China, Ltd.", "中国平安", "SSE", "50.12"),
    ("600036.SH", "China Merchants Bank Co., Ltd.", "招商银行", "SSE", "35.48"),
    ("000001.SZ", "Ping An Bank Co., Ltd.", "平安银行", "SZSE", "11.26"),
    ("000858.SZ", "Wuliangye Yibin Co., Ltd.", "五粮液", "SZSE", "141.35"),
    ("300750.SZ", "Contemporary Amperex Technology Co., Ltd.", "宁德时代", "SZSE", "252.80"),
]

# The A legs not listed above: English name, Chinese name, exchange.
_A_NAMES: dict[str, tuple[str, str, str]] = {
    "601398.SH": ("Industrial and Commercial Bank of China Ltd.", "工商银行", "SSE"),
    "601939.SH": ("China Construction Bank Corporation", "建设银行", "SSE"),
    "601988.SH": ("Bank of China Ltd.", "中国银行", "SSE"),
    "600028.SH": ("China Petroleum & Chemical Corporation", "中国石化", "SSE"),
    "601857.SH": ("PetroChina Company Ltd.", "中国石油", "SSE"),
    "601628.SH": ("China Life Insurance Company Ltd.", "中国人寿", "SSE"),
    "600941.SH": ("China Mobile Ltd.", "中国移动", "SSE"),
    "601088.SH": ("China Shenhua Energy Company Ltd.", "中国神华", "SSE"),
    "600938.SH": ("CNOOC Ltd.", "中国海油", "SSE"),
    "002594.SZ": ("BYD Company Ltd.", "比亚迪", "SZSE"),
}

# code, market, English name, Chinese name, quote currency, reference price, decimals
_FX: list[tuple[str, Market, str, str, str, str, int]] = [
    ("USDHKD", Market.FX, "US Dollar / Hong Kong Dollar", "美元/港元", "HKD", "7.78120", 5),
    ("USDCNH", Market.FX, "US Dollar / Offshore Yuan", "美元/离岸人民币", "CNH", "7.10450", 5),
    ("EURUSD", Market.FX, "Euro / US Dollar", "欧元/美元", "USD", "1.08230", 5),
    ("GBPUSD", Market.FX, "British Pound / US Dollar", "英镑/美元", "USD", "1.27150", 5),
    ("USDJPY", Market.FX, "US Dollar / Japanese Yen", "美元/日元", "JPY", "149.820", 3),
    ("GOLD", Market.FX, "Gold Spot", "现货黄金", "USD", "2405.35", 2),
    ("Silver", Market.FX, "Silver Spot", "现货白银", "USD", "29.142", 3),
    ("BTCUSDT", Market.CRYPTO, "Bitcoin / Tether", "比特币/USDT", "USDT", "65210.50", 2),
    ("ETHUSDT", Market.CRYPTO, "Ether / Tether", "以太坊/USDT", "USDT", "3215.40", 2),
    ("SOLUSDT", Market.CRYPTO, "Solana / Tether", "Solana/USDT", "USDT", "148.72", 2),
]


def _build() -> dict[str, Instrument]:
    out: dict[str, Instrument] = {}
    for ticker, name_en, name_cn, exchange, price in _US:
        code = f"{ticker}.US"
        out[code] = Instrument(code, Market.US, name_en, name_cn, "USD", exchange, 1, Decimal(price), 6)
    for number, name_en, name_cn, lot, price in _HK:
        code = f"{number}.HK"
        out[code] = Instrument(code, Market.HK, name_en, name_cn, "HKD", "SEHK", lot, Decimal(price), 6)
    for pair in DUAL_LISTED:
        name_en, name_cn, exchange = _US_ADR_NAMES[pair.us]
        adr = (out[pair.hk].price * pair.ratio / USDHKD_REF).quantize(Decimal("0.01"), ROUND_HALF_EVEN)
        out[pair.us] = Instrument(pair.us, Market.US, name_en, name_cn, "USD", exchange, 1, adr, 6)
    for code, name_en, name_cn, exchange, price in _CN:
        out[code] = Instrument(code, Market.CN, name_en, name_cn, "CNY", exchange, 100, Decimal(price), 6)
    for a, h, premium in AH_LISTED:
        if a in out:
            continue
        name_en, name_cn, exchange = _A_NAMES[a]
        ref = out[h].price * USDCNH_REF / USDHKD_REF * (1 + Decimal(premium) / 100)
        price = ref.quantize(Decimal("0.01"), ROUND_HALF_EVEN)
        out[a] = Instrument(a, Market.CN, name_en, name_cn, "CNY", exchange, 100, price, 6)
    for code, market, name_en, name_cn, ccy, price, decimals in _FX:
        exchange = "CRYPTO" if market is Market.CRYPTO else "FX"
        out[code] = Instrument(code, market, name_en, name_cn, ccy, exchange, 1, Decimal(price), decimals)
    return out


UNIVERSE: dict[str, Instrument] = _build()

# HKEX spread table (Part A): (upper bound of the band, tick size).
_HK_SPREADS: list[tuple[Decimal, Decimal]] = [
    (Decimal("0.25"), Decimal("0.001")),
    (Decimal("0.50"), Decimal("0.005")),
    (Decimal("10"), Decimal("0.01")),
    (Decimal("20"), Decimal("0.02")),
    (Decimal("100"), Decimal("0.05")),
    (Decimal("200"), Decimal("0.1")),
    (Decimal("500"), Decimal("0.2")),
    (Decimal("1000"), Decimal("0.5")),
    (Decimal("2000"), Decimal("1")),
    (Decimal("5000"), Decimal("2")),
]


def tick_size(inst: Instrument, price: Decimal) -> Decimal:
    """Minimum price increment at ``price``: HK by the HKEX spread table, others fixed."""
    if inst.market is Market.HK:
        for upper, tick in _HK_SPREADS:
            if price < upper:
                return tick
        return Decimal("5")
    if inst.market in (Market.US, Market.CN):
        return Decimal("0.01")
    return Decimal(1).scaleb(-inst.decimals)


def round_to_tick(inst: Instrument, price: Decimal, rounding: str = ROUND_HALF_EVEN) -> Decimal:
    """``price`` on the instrument's tick grid, never below one tick, at wire precision.

    ``rounding`` lets bar highs round up and lows round down so a bar always
    contains its open and close.
    """
    tick = tick_size(inst, price)
    steps = (price / tick).to_integral_value(rounding)
    rounded = max(steps, Decimal(1)) * tick
    return rounded.quantize(Decimal(1).scaleb(-inst.decimals))
