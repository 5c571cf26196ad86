"""The simulation's settings: the design's defaults, overridable from a TOML file and the CLI."""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from engine import TempologError
from sim.money import to_cents

CHECKS = ("position", "velocity", "loss", "concentration")
TIFS = ("day", "gtt", "ioc")


class SimConfigError(TempologError):
    """A simulation setting that is missing, unknown or out of range."""

    code = "sim-config"


@dataclass(frozen=True)
class ClientConfig:
    """One trading client. Money in cents; rates are probabilities per submitted order."""

    id: str
    balance: int
    risk_limit: int  # largest notional position per symbol, cents
    velocity_limit: int  # orders per velocity window
    loss_limit: int = 0  # daily realized loss that stops new orders, cents; 0: risk_limit / 10
    weight: int = 25  # share of the order flow, relative to the other clients
    cancel_rate: float = 0.05
    modify_rate: float = 0.05
    modify_oldest: int = 0  # if > 0, modify among this many oldest working orders, not recent
    overrides: tuple[str, ...] = ()  # checks whose breaches a standing override waives

    @property
    def daily_loss_limit(self) -> int:
        return self.loss_limit or self.risk_limit // 10


def _client(id, balance, risk, velocity, **rest) -> ClientConfig:
    return ClientConfig(id, to_cents(balance), to_cents(risk), velocity, **rest)


DEFAULT_CLIENTS = (
    _client("client-1", 100_000, 10_000, 100, weight=15, overrides=("loss",)),
    _client("client-2", 500_000, 50_000, 200, weight=34, cancel_rate=0.04, modify_rate=0.03,
            overrides=("concentration",)),
    # The clients the audit rules should notice: client-3 cancels a lot and keeps reworking
    # its oldest orders (some are modified many times); client-4 modifies a lot.
    _client("client-3", 50_000, 5_000, 50, weight=8, cancel_rate=0.6, modify_rate=0.5,
            modify_oldest=3),
    _client("client-4", 1_000_000, 100_000, 500, weight=43, cancel_rate=0.1, modify_rate=0.5,
            overrides=("velocity",)),
)

DEFAULT_SYMBOLS = {"AAPL": 19_000, "GOOGL": 14_000, "MSFT": 37_000, "AMZN": 15_000,
                   "TSLA": 24_000}


@dataclass(frozen=True)
class SimConfig:
    seed: int = 1
    ticks: int = 10_000
    orders_per_tick: int = 5
    symbols: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_SYMBOLS))  # cents
    clients: tuple[ClientConfig, ...] = DEFAULT_CLIENTS
    # Market data: a random walk of +-price_step_bp every price_interval ticks.
    price_interval: int = 10
    price_step_bp: int = 100
    price_floor: int = 100  # cents
    halt_move_bp: int = 500  # a move this large since the last reference halts the symbol
    halt_ticks: int = 50
    # The trading day: the session is open for session_ticks of every day_ticks.
    day_ticks: int = 1_000
    session_ticks: int = 990
    settlement_ticks: int = 1_000  # T+1 day
    # Order flow.
    self_match: bool = True
    tif_weights: dict[str, int] = field(default_factory=lambda: {"day": 70, "gtt": 20,
                                                                  "ioc": 10})
    gtt_ticks: tuple[int, int] = (50, 300)
    order_size_bp: tuple[int, int] = (50, 1_200)  # notional, in bp of the client's risk limit
    price_behind_bp: int = 300  # a limit price sits up to this far behind the reference
    price_through_bp: int = 10  # … or up to this far through it
    bad_order_rate: float = 0.004
    # Risk.
    velocity_window: int = 100
    concentration_bp: int = 6_000
    # Simulated wall time: event `ts` is microseconds since the Unix epoch.
    epoch: str = "2026-01-05T14:30:00Z"
    tick_us: int = 1_000_000

    def __post_init__(self) -> None:
        problems = list(_problems(self))
        if problems:
            raise SimConfigError("; ".join(problems))

    @property
    def epoch_us(self) -> int:
        moment = datetime.fromisoformat(self.epoch.replace("Z", "+00:00"))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return int(moment.timestamp()) * 1_000_000 + moment.microsecond

    @property
    def days(self) -> int:
        return -(-self.ticks // self.day_ticks)

    def client(self, client_id: str) -> ClientConfig | None:
        return next((c for c in self.clients if c.id == client_id), None)

    def replace(self, **changes: Any) -> SimConfig:
        return dataclasses.replace(self, **changes)


MAX_ID = 64  # characters of a client id or a symbol: they make stream ids and payload text
MAX_CENTS = 10**15  # ten trillion dollars: prices and balances far from 64-bit overflow
MAX_TS = 2**63 - 1


def _type_problems(config) -> list[str]:
    """Each setting of the wrong type (a bool is no integer, a float no tick count)."""
    problems = []
    for f in dataclasses.fields(config):
        value, where = getattr(config, f.name), (
            f"{config.id}: " if isinstance(config, ClientConfig) and f.name != "id"
            and type(config.id) is str else "")
        wanted = {"int": "an integer", "float": "a number", "bool": "true or false",
                  "str": "a string", "tuple[int, int]": "two integers",
                  "dict[str, int]": "a table of integers",
                  "tuple[str, ...]": "a list of strings"}.get(f.type)
        if f.name == "clients":
            if type(value) is not tuple or not all(isinstance(c, ClientConfig) for c in value):
                problems.append("clients must be a list of client tables")
            else:
                problems.extend(p for c in value for p in _type_problems(c))
            continue
        ok = {"int": _is_int, "float": lambda v: _is_int(v) or type(v) is float,
              "bool": lambda v: type(v) is bool, "str": lambda v: type(v) is str,
              "tuple[int, int]": lambda v: type(v) is tuple and len(v) == 2
              and all(map(_is_int, v)),
              "dict[str, int]": lambda v: type(v) is dict and all(
                  type(k) is str and _is_int(n) for k, n in v.items()),
              "tuple[str, ...]": lambda v: type(v) is tuple and all(
                  type(x) is str for x in v)}.get(f.type, lambda v: True)(value)
        if not ok:
            problems.append(f"{where}{f.name} must be {wanted}, not {value!r}"[:300])
    return problems


def _is_int(value) -> bool:
    return type(value) is int


def _problems(c: SimConfig):
    wrong_types = _type_problems(c)
    if wrong_types:  # the range checks below need the right types
        yield from wrong_types
        return
    for name in ("ticks", "orders_per_tick", "price_step_bp", "halt_ticks", "settlement_ticks"):
        if getattr(c, name) < 0:
            yield f"{name} must not be negative"
    for name in ("price_interval", "day_ticks", "velocity_window", "tick_us", "price_floor"):
        if getattr(c, name) <= 0:
            yield f"{name} must be positive"
    if not 0 < c.session_ticks <= c.day_ticks:
        yield "session_ticks must be between 1 and day_ticks"
    if not c.symbols:
        yield "at least one symbol is needed"
    for symbol, price in c.symbols.items():
        if not 0 < len(symbol) <= MAX_ID or not symbol.isprintable() or " " in symbol:
            yield (f"symbol {symbol[:MAX_ID]!r} must be 1 to {MAX_ID} printable characters "
                   "without spaces")
        if not 0 < price <= MAX_CENTS:
            yield f"the price of {symbol[:MAX_ID]} must be positive and at most {MAX_CENTS} cents"
    if not c.clients:
        yield "at least one client is needed"
    if len({client.id for client in c.clients}) != len(c.clients):
        yield "client ids must be unique"
    if c.clients and not any(client.weight > 0 for client in c.clients):
        yield "at least one client needs a positive weight (its share of the order flow)"
    for client in c.clients:
        if not 0 < len(client.id) <= MAX_ID or not client.id.isprintable() or " " in client.id:
            yield (f"client id {client.id[:MAX_ID]!r} must be 1 to {MAX_ID} printable "
                   "characters without spaces")
        if max(client.balance, client.risk_limit, client.loss_limit) > MAX_CENTS:
            yield f"{client.id}: balance and limits must be at most {MAX_CENTS} cents"
        if client.weight < 0 or client.velocity_limit < 0 or client.risk_limit < 0:
            yield f"{client.id}: weight and limits must not be negative"
        if client.modify_oldest < 0:
            yield f"{client.id}: modify_oldest must not be negative"
        for rate in ("cancel_rate", "modify_rate"):
            if not 0 <= getattr(client, rate) <= 1:
                yield f"{client.id}: {rate} must be between 0 and 1"
        for check in client.overrides:
            if check not in CHECKS:
                yield f"{client.id}: unknown override {check!r} (checks: {', '.join(CHECKS)})"
    if set(c.tif_weights) - set(TIFS) or not any(c.tif_weights.values()):
        yield f"tif_weights takes weights for {', '.join(TIFS)}"
    if not 0 <= c.bad_order_rate <= 1:
        yield "bad_order_rate must be between 0 and 1"
    for name in ("gtt_ticks", "order_size_bp"):
        low, high = getattr(c, name)
        if not 0 < low <= high:
            yield f"{name} must be two positive numbers, low first"
    try:
        epoch_us = c.epoch_us
    except ValueError:
        yield f"epoch {c.epoch!r} is not an ISO 8601 time"
    else:
        if epoch_us < 0:
            yield f"epoch {c.epoch!r} must not be before 1970-01-01 (event ts count from it)"
        elif c.tick_us > 0 and epoch_us + (c.ticks + c.settlement_ticks) * c.tick_us > MAX_TS:
            yield "epoch + ticks * tick_us is past the 64-bit microsecond range"


# ---- TOML ------------------------------------------------------------------

_MONEY_FIELDS = {"price_floor"}
_CLIENT_MONEY = {"balance", "risk_limit", "loss_limit"}


def load_config(path: str | Path | None = None, **overrides: Any) -> SimConfig:
    """Defaults, then the TOML file's settings, then `overrides` (CLI options; None is unset).

    Money in TOML is in dollars (`balance = "100000"`, `[symbols] AAPL = "190.00"`).
    """
    values: dict[str, Any] = {}
    if path is not None:
        try:
            data = tomllib.loads(Path(path).read_text())
        except FileNotFoundError:
            raise SimConfigError(f"config file {path} does not exist",
                                 code="file-not-found") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
            raise SimConfigError(f"{path}: not valid TOML: {error}") from None
        values = _from_toml(data, str(path))
    values.update({k: v for k, v in overrides.items() if v is not None})
    try:
        return SimConfig(**values)
    except TypeError as error:
        raise SimConfigError(str(error)) from None


def _from_toml(data: dict, where: str) -> dict[str, Any]:
    known = {f.name for f in dataclasses.fields(SimConfig)}
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key not in known:
            raise SimConfigError(f"{where}: unknown setting {key!r}")
        try:
            if key == "symbols":
                value = {str(s): to_cents(p) for s, p in value.items()}
            elif key == "clients":
                value = tuple(_client_from_toml(c, where) for c in value)
            elif key in _MONEY_FIELDS:
                value = to_cents(value)
            elif key in ("gtt_ticks", "order_size_bp"):
                value = tuple(value)
        except (ValueError, AttributeError, TypeError) as error:
            raise SimConfigError(f"{where}: {key}: {error}") from None
        values[key] = value
    return values


def _client_from_toml(data: dict, where: str) -> ClientConfig:
    known = {f.name for f in dataclasses.fields(ClientConfig)}
    unknown = set(data) - known
    if unknown:
        raise SimConfigError(f"{where}: unknown client setting {sorted(unknown)[0]!r}")
    values = {k: to_cents(v) if k in _CLIENT_MONEY else v for k, v in data.items()}
    if "overrides" in values:
        values["overrides"] = tuple(values["overrides"])
    try:
        return ClientConfig(**values)
    except TypeError as error:
        raise SimConfigError(f"{where}: client: {error}") from None
