"""The algorithm inventory a target keeps in ``algorithms.yaml`` (RTS 6 Art. 1, Annex I; 15c3-5).

``load(ctx)`` reads the file (at the target's root; ``check.params.inventory`` overrides the
path) with the plan's safe YAML reader, checks its shape against :data:`SCHEMA` and returns an
:class:`Inventory`: the algorithms by id and the pre-trade controls by id. A missing file raises
:class:`RecordsMissing` (the check is ``missing``); a malformed one raises :class:`RecordsError`
naming the file, the line and the field, so the check is ``error`` and the run goes on.
Completeness (which fields an entry lacks) is judged by the checks, not here: an incomplete
entry is evidence of a gap, not a broken file.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import jsonschema

from golive.plugins.records.reader import RecordsError, RecordsMissing
from golive.yamlsafe import YamlError, read_yaml

DEFAULT_PATH = "algorithms.yaml"
INVENTORY_PARAM = {"type": "string", "description": "path of the algorithm inventory (default algorithms.yaml)"}
# the fields RTS 6 Art. 1 / Annex I and 15c3-5 ask an inventory entry to state (issue 18.2)
REQUIRED_FIELDS = ("owner", "venues", "strategies", "limits", "approved_operators", "last_material_change")
CONTROL_KINDS = ("price_collar", "max_order_value", "max_order_qty", "message_throttle", "credit_threshold",
                 "duplicate_order")
# the limit each kind of control needs, with what it means
LIMIT_KEYS = {
    "price_collar": ("max_deviation_pct",),       # |limit price - reference| / reference, in %
    "max_order_value": ("max_value_usd",),         # qty x price x multiplier
    "max_order_qty": ("max_qty",),                 # contracts per order
    "message_throttle": ("max_messages", "window_s"),  # orders sent in any window of window_s
    "credit_threshold": ("max_daily_notional_usd",),   # gross notional of a day's accepted orders
    "duplicate_order": ("window_s",),              # identical order within window_s
}
_TIME = {"type": "string", "minLength": 10}
SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["algorithms"],
    "properties": {
        "algorithms": {"type": "array", "items": {
            "type": "object", "required": ["id"],
            "properties": {
                "id": {"type": "string", "minLength": 1},
                "owner": {"type": "string"},
                "venues": {"type": "array", "items": {"type": "string", "minLength": 1}},
                "strategies": {"type": "array", "items": {"type": "string", "minLength": 1}},
                "limits": {"type": "object", "additionalProperties": {"type": "number"}},
                "limits_set": _TIME,
                "approved_operators": {"type": "array", "items": {"type": "string", "minLength": 1}},
                "last_material_change": {"type": "object", "required": ["date"],
                                         "properties": {"date": _TIME}},
            }}},
        "pretrade_controls": {"type": "array", "items": {
            "type": "object", "required": ["id", "kind", "limit"],
            "properties": {
                "id": {"type": "string", "minLength": 1},
                "kind": {"enum": list(CONTROL_KINDS)},
                "limit": {"type": "object", "additionalProperties": {"type": "number", "exclusiveMinimum": 0}},
                "applies_to": {"oneOf": [{"const": "all"}, {"type": "array", "items": {"type": "string"}}]},
                "set": _TIME,
            }}},
    },
}


@dataclass(frozen=True)
class Control:
    id: str
    kind: str
    limit: dict[str, float]
    applies_to: tuple[str, ...] | None  # None = every algorithm
    set: datetime | None

    def covers(self, algorithm_id: Any) -> bool:
        return self.applies_to is None or algorithm_id in self.applies_to


@dataclass(frozen=True)
class Inventory:
    file: str
    algorithms: dict[str, dict]
    controls: dict[str, Control]

    def missing_fields(self, algorithm_id: str) -> list[str]:
        """The required fields the entry leaves out or empty."""
        entry = self.algorithms[algorithm_id]
        return [f for f in REQUIRED_FIELDS if entry.get(f) in (None, "", [], {})]


def spec(name: str, func, description: str, metrics: tuple[str, ...], properties: dict | None = None):
    """The CheckSpec of a regulatory check that reads the inventory (params: ``inventory``, ``files``)."""
    from golive.plugins.records.checkutil import make_spec

    return make_spec("regulatory", name, func, description, metrics,
                     properties={"inventory": INVENTORY_PARAM, **(properties or {})})


def path_of(ctx) -> Path:
    p = Path(ctx.params.get("inventory") or DEFAULT_PATH)
    return p if p.is_absolute() else ctx.target.root / p


def when(value: str, file: str, where: str) -> datetime:
    """A date or ISO time of the inventory as an aware UTC datetime (a date is its midnight UTC)."""
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00")) if "T" in value else \
            datetime.combine(date.fromisoformat(value), datetime.min.time())
    except ValueError:
        raise RecordsError(file, f"{where}: {value!r} is not a date (YYYY-MM-DD) or an ISO 8601 time") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def load(ctx) -> Inventory:
    path = path_of(ctx)
    try:
        rel = str(path.resolve().relative_to(ctx.target.root.resolve()))
    except ValueError:
        rel = str(path)
    if not path.exists():
        raise RecordsMissing(f"{rel} not found: the algorithm inventory (see docs/records-contract.md, "
                             "'Algorithm inventory')")
    if not any(a.path == rel for a in ctx.artifacts):
        ctx.record_artifact(path)
    try:
        doc = read_yaml(path, rel)
    except YamlError as exc:
        raise RecordsError(rel, str(exc)) from None
    errors = sorted(jsonschema.Draft202012Validator(SCHEMA).iter_errors(doc.data), key=lambda e: list(e.path))
    if errors:
        err = errors[0]
        line = doc.line_of(tuple(err.path))
        field = ".".join(str(p) for p in err.path) or "(top level)"
        raise RecordsError(f"{rel}:{line}" if line else rel, f"{field}: {err.message}")
    return _build(doc.data, rel)


def _build(data: dict, rel: str) -> Inventory:
    algorithms: dict[str, dict] = {}
    for i, entry in enumerate(data.get("algorithms") or []):
        if entry["id"] in algorithms:
            raise RecordsError(rel, f"algorithms[{i}]: algorithm id {entry['id']!r} is listed twice")
        algorithms[entry["id"]] = entry
    controls: dict[str, Control] = {}
    for i, c in enumerate(data.get("pretrade_controls") or []):
        where = f"pretrade_controls[{c['id']}]"
        if c["id"] in controls:
            raise RecordsError(rel, f"{where}: control id listed twice")
        lacking = [k for k in LIMIT_KEYS[c["kind"]] if k not in c["limit"]]
        if lacking:
            raise RecordsError(rel, f"{where}.limit: a {c['kind']} needs {', '.join(lacking)}")
        scope = c.get("applies_to", "all")
        controls[c["id"]] = Control(c["id"], c["kind"], dict(c["limit"]),
                                    None if scope == "all" else tuple(scope),
                                    when(c["set"], rel, f"{where}.set") if c.get("set") else None)
    return Inventory(rel, algorithms, controls)


def orders(ctx, need: tuple[str, ...] = (), optional: tuple[str, ...] = ()):
    """The orders with the regulatory columns (algorithm_id, trader_id, venue nullable); a column in
    ``need`` that no order fills raises :class:`RecordsMissing` (the check is ``missing``)."""
    from golive.plugins.broker import trading
    from golive.plugins.records import reader

    frame = trading.orders(ctx, optional=tuple(dict.fromkeys((*need, *optional))))
    for col in need:  # optional in the contract (older records lack them): without them, no evidence
        if not frame.empty and frame[col].isna().all():
            raise RecordsMissing(f"{reader._rel(ctx, reader.find(ctx, 'orders'))} records no '{col}': add the "
                                 "column (docs/records-contract.md, 'Regulatory records')")
    return frame


def text(value: Any) -> str:
    """A records cell as text ('' for null/NaN)."""
    return "" if value is None or value != value else str(value).strip()
