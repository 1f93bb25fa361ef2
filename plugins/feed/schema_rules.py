"""Record rules of the non-MBO Databento schemas, as vectorised masks over one chunk.

Each function takes a chunk of records (a numpy structured array in the schema's DBN dtype)
and returns boolean masks (True = the record breaks the rule), sometimes with a per-record
detail. They hold no state: ordering across records and chunks is done by
:mod:`.schema_quality`, crossed/locked episodes by :mod:`.schema_quotes`.

Sentinels are DBN's: ``UNDEF_PRICE`` (i64 max) for a price that is not set, ``UNDEF_TIMESTAMP``
(u64 max), the integer type's maximum for quantities. The known values of enumerations
(status actions, stat types, instrument classes, ...) are read from ``databento_dbn``, so
they follow the installed version of the format.
"""
from __future__ import annotations

import databento_dbn
import numpy as np

UNDEF_PRICE = np.iinfo(np.int64).max
UNDEF_TS = np.iinfo(np.uint64).max
UNDEF_SIZE = np.iinfo(np.uint32).max


def byte_set(chars: bytes) -> np.ndarray:
    """A 256-entry membership table for 1-byte codes: ``table[codes]`` is one gather, where
    ``np.isin`` would sort."""
    table = np.zeros(256, dtype=bool)
    table[np.frombuffer(chars, dtype=np.uint8)] = True
    return table


ACTIONS = byte_set(b"ACMTFRN")
SIDES = byte_set(b"ABN")
PRICED_ACTIONS = byte_set(b"AMTF")  # as for MBO: these must carry a price


def _values(enum) -> np.ndarray:
    return np.array(sorted(int(e.value) for e in enum.variants()), dtype=np.int64)


STATUS_ACTIONS = _values(databento_dbn.StatusAction)
STATUS_REASONS = _values(databento_dbn.StatusReason)
TRADING_EVENTS = _values(databento_dbn.TradingEvent)
TRISTATES = byte_set("".join(e.value for e in databento_dbn.TriState.variants()).encode())
STAT_TYPES = _values(databento_dbn.StatType)
STAT_UPDATE_ACTIONS = _values(databento_dbn.StatUpdateAction)
_S = databento_dbn.StatType
# stat types whose figure is a quantity (volume, open interest); every other one is a price
QUANTITY_STATS = np.array([int(_S.CLEARED_VOLUME.value), int(_S.OPEN_INTEREST.value),
                           int(_S.BLOCK_VOLUME.value), int(_S.VENUE_SPECIFIC_VOLUME_1.value)])
_A = databento_dbn.StatusAction
TRADING = int(_A.TRADING.value)
# states in which nothing trades: a record saying is_trading 'Y' contradicts itself
NOT_TRADING = np.array([int(a.value) for a in (_A.HALT, _A.PAUSE, _A.SUSPEND,
                                               _A.NOT_AVAILABLE_FOR_TRADING)])
INSTRUMENT_CLASSES = byte_set("".join(e.value for e in databento_dbn.InstrumentClass.variants()).encode())
# classes with an expiry and a tick: futures, options and their spreads
DERIVATIVES = byte_set(b"FCPSTM")
OPTIONS = byte_set(b"CP")
BAR_INTERVAL_NS = {"ohlcv-1s": 10**9, "ohlcv-1m": 60 * 10**9, "ohlcv-1h": 3600 * 10**9,
                   "ohlcv-1d": 86_400 * 10**9, "bbo-1s": 10**9, "bbo-1m": 60 * 10**9,
                   "cbbo-1s": 10**9, "cbbo-1m": 60 * 10**9}


def char(r: np.ndarray, field: str) -> np.ndarray:
    """A 1-character field as uint8 codes (an empty byte string reads as 0)."""
    return r[field].view(np.uint8)


def price_masks(px: np.ndarray, checked: np.ndarray, allow_negative: bool) -> tuple[np.ndarray, np.ndarray]:
    """(undefined, non-positive) among the ``checked`` records; spreads and some options
    trade at zero or below, which the plan can allow."""
    undefined = checked & (px == UNDEF_PRICE)
    if allow_negative:
        return undefined, np.zeros(len(px), dtype=bool)
    return undefined, checked & (px < 1)


def unknown_actions(r: np.ndarray) -> np.ndarray:
    """Action or side that is not a DBN value."""
    bad = ~SIDES[char(r, "side")]
    if "action" in r.dtype.names:
        bad |= ~ACTIONS[char(r, "action")]
    return bad


def top_state(r: np.ndarray, side: str = "00") -> np.ndarray:
    """0 = fine or one side empty, 1 = locked (bid == ask), 2 = crossed (bid > ask)."""
    bid, ask = r[f"bid_px_{side}"], r[f"ask_px_{side}"]
    both = (bid != UNDEF_PRICE) & (ask != UNDEF_PRICE)
    return (both & (bid >= ask)).astype(np.int8) + (both & (bid > ask))


def levels_out_of_order(r: np.ndarray, n_levels: int) -> np.ndarray:
    """A book level out of place: bids must fall and asks rise strictly from level 0 down,
    and an empty level may only be followed by empty levels."""
    bad = np.zeros(len(r), dtype=bool)
    for side, worse in (("bid", np.less), ("ask", np.greater)):
        for k in range(n_levels - 1):
            here, below = r[f"{side}_px_{k:02d}"], r[f"{side}_px_{k + 1:02d}"]
            below_set = below != UNDEF_PRICE
            bad |= below_set & ((here == UNDEF_PRICE) | ~worse(below, here))
    return bad


def levels_inconsistent(r: np.ndarray, n_levels: int) -> np.ndarray:
    """A level whose price and size disagree: a price with no size (or no orders), or a
    size at an empty price."""
    names = r.dtype.names
    bad = np.zeros(len(r), dtype=bool)
    for side in ("bid", "ask"):
        for k in range(n_levels):
            set_ = r[f"{side}_px_{k:02d}"] != UNDEF_PRICE
            size = r[f"{side}_sz_{k:02d}"]
            bad |= set_ == (size == 0)
            if f"{side}_ct_{k:02d}" in names:
                bad |= set_ == (r[f"{side}_ct_{k:02d}"] == 0)
    return bad


def quote_prices(r: np.ndarray, n_levels: int, allow_negative: bool) -> np.ndarray:
    """Quoted prices at or below zero (an empty level is fine)."""
    bad = np.zeros(len(r), dtype=bool)
    if allow_negative:
        return bad
    for side in ("bid", "ask"):
        for k in range(n_levels):
            px = r[f"{side}_px_{k:02d}"]
            bad |= (px != UNDEF_PRICE) & (px < 1)
    return bad


def jumps(px: np.ndarray, prev: np.ndarray, has_prev: np.ndarray, ratio: float) -> np.ndarray:
    """Direction (+1/-1, 0 = none) of each trade's move past ``ratio`` from the previous one."""
    base = np.where(prev == 0, 1, prev).astype(np.float64)
    rel = np.where(has_prev, px / base - 1.0, 0.0)
    return np.where(np.abs(rel) > ratio, np.sign(rel), 0).astype(np.int8)


def ohlc_rules(r: np.ndarray, allow_negative: bool) -> dict[str, np.ndarray]:
    o, h, lo, c = (r[k] for k in ("open", "high", "low", "close"))
    every = np.ones(len(r), dtype=bool)
    undefined = np.zeros(len(r), dtype=bool)
    non_positive = np.zeros(len(r), dtype=bool)
    for px in (o, h, lo, c):
        u, p = price_masks(px, every, allow_negative)
        undefined |= u
        non_positive |= p
    inconsistent = ~undefined & ((lo > h) | (o < lo) | (o > h) | (c < lo) | (c > h))
    # Databento publishes a bar only for an interval with trades: volume 0 is not a bar
    return {"ohlc_inconsistent": inconsistent, "undefined_prices": undefined,
            "non_positive_prices": non_positive, "zero_sizes": r["volume"] == 0}


def misaligned(times: np.ndarray, interval_ns: int) -> np.ndarray:
    return times % np.uint64(interval_ns) != 0


def definition_missing(r: np.ndarray) -> list[tuple[str, np.ndarray]]:
    """(field, mask of records where it is required but empty or undefined). Every instrument
    needs ``raw_symbol`` and a known ``instrument_class``; futures, options and spreads also an
    ``expiration``, a positive ``min_price_increment`` and a ``currency``; options a
    ``strike_price``. Equities legitimately leave those empty (XNAS publishes no tick or
    currency in its definitions), and a delete (``security_update_action`` D) needs nothing."""
    cls = char(r, "instrument_class")
    live = char(r, "security_update_action") != ord("D")
    deriv = DERIVATIVES[cls] & live
    tick = r["min_price_increment"]
    return [("raw_symbol", live & (r["raw_symbol"] == b"")),
            ("instrument_class", live & ~INSTRUMENT_CLASSES[cls]),
            ("expiration", deriv & (r["expiration"] == UNDEF_TS)),
            ("min_price_increment", deriv & ((tick == UNDEF_PRICE) | (tick <= 0))),
            ("currency", deriv & (r["currency"] == b"")),
            ("strike_price", OPTIONS[cls] & live & (r["strike_price"] == UNDEF_PRICE))]


def statistics_invalid(r: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """A stat type or update action that DBN does not define, or a new statistic without its
    figure: a price for price statistics, a non-negative quantity for volumes and open
    interest (a delete carries neither)."""
    stype, action = r["stat_type"].astype(np.int64), r["update_action"].astype(np.int64)
    undef_qty = np.iinfo(r["quantity"].dtype).max  # i32 in DBN v1/v2, i64 in v3
    unknown_type = ~np.isin(stype, STAT_TYPES)
    unknown_action = ~np.isin(action, STAT_UPDATE_ACTIONS)
    new = action == 1
    is_qty = np.isin(stype, QUANTITY_STATS)
    no_price = new & ~unknown_type & ~is_qty & (r["price"] == UNDEF_PRICE)
    qty = r["quantity"]
    no_qty = new & is_qty & ((qty == undef_qty) | (qty < 0))
    why = np.full(len(r), "", dtype=object)
    for m, text in ((unknown_action, "unknown update_action"), (no_qty, "quantity missing or negative"),
                    (no_price, "price missing"), (unknown_type, "unknown stat_type")):
        why[m] = text
    return unknown_type | unknown_action | no_price | no_qty, why.tolist()


def status_rules(r: np.ndarray) -> dict[str, np.ndarray]:
    """``status_unknown``: an action, reason, trading event or Y/N/~ flag DBN does not define;
    ``status_inconsistent``: TRADING with is_trading N, or a halt/pause/suspension with
    is_trading Y (other states, such as a new price indication, may or may not trade)."""
    action = r["action"].astype(np.int64)
    trading = char(r, "is_trading")
    unknown = ~np.isin(action, STATUS_ACTIONS) | ~np.isin(r["reason"].astype(np.int64), STATUS_REASONS)
    unknown |= ~np.isin(r["trading_event"].astype(np.int64), TRADING_EVENTS)
    for flag in ("is_trading", "is_quoting", "is_short_sell_restricted"):
        unknown |= ~TRISTATES[char(r, flag)]
    inconsistent = (((action == TRADING) & (trading == ord("N")))
                    | (np.isin(action, NOT_TRADING) & (trading == ord("Y"))))
    return {"status_unknown": unknown, "status_inconsistent": inconsistent & ~unknown}


def imbalance_rules(r: np.ndarray, allow_negative: bool) -> dict[str, np.ndarray]:
    """The reference price must be set (the other prices are 0 when a venue does not publish
    them); the side a DBN side; paired and imbalance quantities set (sizes are unsigned)."""
    every = np.ones(len(r), dtype=bool)
    undefined, non_positive = price_masks(r["ref_price"], every, allow_negative)
    invalid = ~SIDES[char(r, "side")]
    invalid |= (r["paired_qty"] == UNDEF_SIZE) | (r["total_imbalance_qty"] == UNDEF_SIZE)
    return {"undefined_prices": undefined, "non_positive_prices": non_positive,
            "imbalance_invalid": invalid}
