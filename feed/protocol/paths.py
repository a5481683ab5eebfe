"""Endpoint paths of the AllTick API (alltick-protocol.md §1.2, §1.3, §4.2), in one place.

The client builds URLs from these and the simulator routes by them, so a renamed
path can never be fixed on one side only.

Thread ownership: none; pure constants.
"""

from __future__ import annotations

from feed.symbols import Endpoint

__all__ = [
    "HTTP_BASE",
    "HTTP_METHODS",
    "HTTP_NAMES",
    "HTTP_PATHS",
    "WS_PATH",
    "endpoint_of_http_base",
    "endpoint_of_ws_path",
]

# WebSocket stream paths: stocks and exchange indices vs forex, metals, CFDs, crypto.
WS_PATH: dict[Endpoint, str] = {
    Endpoint.STOCK: "/quote-stock-b-ws-api",
    Endpoint.FOREX: "/quote-b-ws-api",
}
# HTTP base paths; an endpoint's URL is base + "/" + name.
HTTP_BASE: dict[Endpoint, str] = {
    Endpoint.STOCK: "/quote-stock-b-api",
    Endpoint.FOREX: "/quote-b-api",
}
# Which HTTP endpoints each base serves (static info exists for stocks only).
HTTP_NAMES: dict[Endpoint, frozenset[str]] = {
    Endpoint.STOCK: frozenset({"kline", "batch-kline", "trade-tick", "static_info"}),
    Endpoint.FOREX: frozenset({"kline", "batch-kline", "trade-tick"}),
}
# /batch-kline is the only POST; the rest are GET with a ``query`` parameter.
HTTP_METHODS: dict[str, str] = {
    "kline": "GET",
    "batch-kline": "POST",
    "trade-tick": "GET",
    "static_info": "GET",
}
HTTP_PATHS: list[str] = sorted(f"{HTTP_BASE[e]}/{n}" for e, names in HTTP_NAMES.items() for n in names)

_WS_ENDPOINT = {path: e for e, path in WS_PATH.items()}
_HTTP_ENDPOINT = {path: e for e, path in HTTP_BASE.items()}


def endpoint_of_ws_path(path: str) -> Endpoint | None:
    return _WS_ENDPOINT.get(path)


def endpoint_of_http_base(base: str) -> Endpoint | None:
    return _HTTP_ENDPOINT.get(base)
