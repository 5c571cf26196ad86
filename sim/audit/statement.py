"""A client's account statement for a period: positions and cash at both ends, every trade."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass

from sim.audit.explain import NotFound
from sim.audit.summary import money
from sim.projections import ReadModels
from sim.projections.positions import Holding
from sim.replayer import advance, models_at


@dataclass(frozen=True)
class PositionLine:
    symbol: str
    qty: int
    avg_price: int
    cost: int
    mark: int
    market_value: int
    unrealized: int
    realized: int  # the position's realized P&L since it was first opened

    def to_dict(self) -> dict:
        return vars(self)


@dataclass(frozen=True)
class TradeLine:
    seq: int
    time: int
    trade: str
    symbol: str
    side: str  # buy, sell, or both (a wash trade)
    qty: int
    price: int
    cash: int  # the trade's effect on the client's cash: - for a buy

    def to_dict(self) -> dict:
        return vars(self)


@dataclass
class Statement:
    client: str
    from_time: int
    to_time: int
    opening_seq: int
    closing_seq: int
    opening_cash: int
    closing_cash: int
    opening: list[PositionLine]
    closing: list[PositionLine]
    trades: list[TradeLine]
    realized: int  # P&L realized within the period

    @property
    def unrealized(self) -> int:
        return sum(p.unrealized for p in self.closing)

    def to_dict(self) -> dict:
        return {"client": self.client, "from": self.from_time, "to": self.to_time,
                "opening_seq": self.opening_seq, "closing_seq": self.closing_seq,
                "opening_cash": self.opening_cash, "closing_cash": self.closing_cash,
                "opening_positions": [p.to_dict() for p in self.opening],
                "closing_positions": [p.to_dict() for p in self.closing],
                "trades": [t.to_dict() for t in self.trades],
                "realized_pnl": self.realized, "unrealized_pnl": self.unrealized,
                "money": "integer cents"}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    def to_csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["section", "seq", "time", "trade", "symbol", "side", "qty", "price",
                         "amount"])
        writer.writerow(["opening_cash", self.opening_seq, self.from_time, "", "", "", "", "",
                         _dollars(self.opening_cash)])
        for section, lines in (("opening_position", self.opening),):
            for p in lines:
                writer.writerow([section, self.opening_seq, self.from_time, "", p.symbol, "",
                                 p.qty, _dollars(p.avg_price), _dollars(p.market_value)])
        for t in self.trades:
            writer.writerow(["trade", t.seq, t.time, t.trade, t.symbol, t.side, t.qty,
                             _dollars(t.price), _dollars(t.cash)])
        for p in self.closing:
            writer.writerow(["closing_position", self.closing_seq, self.to_time, "", p.symbol,
                             "", p.qty, _dollars(p.avg_price), _dollars(p.market_value)])
        writer.writerow(["closing_cash", self.closing_seq, self.to_time, "", "", "", "", "",
                         _dollars(self.closing_cash)])
        writer.writerow(["realized_pnl", "", "", "", "", "", "", "", _dollars(self.realized)])
        writer.writerow(["unrealized_pnl", "", "", "", "", "", "", "",
                         _dollars(self.unrealized)])
        return out.getvalue()

    def to_text(self) -> str:
        lines = [f"Statement for {self.client}, t={self.from_time} to t={self.to_time} "
                 f"(events through seq {self.opening_seq} and {self.closing_seq})", ""]
        lines += _positions_text("Opening positions", self.opening)
        lines += [f"Opening cash: {money(self.opening_cash)}", "",
                  f"Trades ({len(self.trades)}):"]
        header = f"  {'seq':>7} {'t':>6} {'trade':<8} {'symbol':<6} {'side':<4} " \
                 f"{'qty':>7} {'price':>12} {'cash':>15}"
        lines.append(header)
        for t in self.trades:
            lines.append(f"  {t.seq:>7} {t.time:>6} {t.trade:<8} {t.symbol:<6} {t.side:<4} "
                         f"{t.qty:>7,} {money(t.price):>12} {money(t.cash):>15}")
        bought = -sum(t.cash for t in self.trades if t.cash < 0)
        sold = sum(t.cash for t in self.trades if t.cash > 0)
        lines += [f"  bought {money(bought)}, sold {money(sold)}", ""]
        lines += _positions_text("Closing positions", self.closing)
        lines += [f"Closing cash: {money(self.closing_cash)}",
                  f"Realized P&L in the period: {money(self.realized)}",
                  f"Unrealized P&L at the close: {money(self.unrealized)}"]
        return "\n".join(lines) + "\n"


def _dollars(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"


def _positions_text(title: str, positions: list[PositionLine]) -> list[str]:
    if not positions:
        return [f"{title}: none (flat)"]
    lines = [f"{title}:",
             f"  {'symbol':<6} {'qty':>7} {'avg price':>12} {'mark':>12} {'market value':>15} "
             f"{'unrealized':>13}"]
    for p in positions:
        lines.append(f"  {p.symbol:<6} {p.qty:>+7,} {money(p.avg_price):>12} {money(p.mark):>12}"
                     f" {money(p.market_value):>15} {money(p.unrealized):>13}")
    return lines


def _lines(models: ReadModels, client: str) -> list[PositionLine]:
    positions = models.positions

    def line(h: Holding) -> PositionLine:
        mark = positions.mark(h.symbol, h.avg_price)
        return PositionLine(h.symbol, h.qty, h.avg_price, h.cost, mark, h.market_value(mark),
                            h.unrealized(mark), h.realized)
    return [line(h) for h in positions.open_positions(client)]


def _cash(models: ReadModels, client: str) -> int | None:
    account = models.balances.account(client)
    return account.cash if account is not None and account.opened else None


def statement(store, client: str, from_time: int = 0, to_time: int | None = None, *,
              opening_cash: int | None = None) -> Statement:
    """The statement from the events: the state just before `from_time` (from the latest
    snapshot before it), then the period's events. `opening_cash` is the client's cash before
    its first trade when the log has no trade of it to tell (else it is read from the log)."""
    head = store.head()[0]
    to_time = store.get_seq(head).time if to_time is None and head else (to_time or 0)
    opening_seq = store.last_seq_at(from_time - 1) if from_time > 0 else 0
    closing_seq = store.last_seq_at(to_time)
    models, _ = models_at(store, opening_seq)
    opening = _lines(models, client)
    cash_before = _cash(models, client)
    realized_before = models.positions.realized(client)
    advance(store, models, closing_seq)
    account = models.balances.account(client)
    if account is None and not models.positions.of(client):
        known = sorted(models.balances.accounts)
        if not any(store.read(types=["OrderSubmitted"], limit=1)):
            raise NotFound(f"{store.path} holds no orders")
        if client not in _clients(store):
            raise NotFound(f"no client {client!r} in {store.path} (clients who traded: "
                           f"{', '.join(known) or 'none'})")
    start_cash = cash_before if cash_before is not None else (
        account.opening if account is not None and account.opened else opening_cash or 0)
    end_cash = _cash(models, client)
    trades = []
    for t in models.trades.of(client, from_time, to_time):
        side = t.side_of(client)
        effect = 0 if side == "both" else (-t.amount if side == "buy" else t.amount)
        trades.append(TradeLine(t.seq, t.time, t.trade, t.symbol, side, t.qty, t.price, effect))
    return Statement(client, from_time, to_time, opening_seq, closing_seq, start_cash,
                     end_cash if end_cash is not None else start_cash, opening,
                     _lines(models, client), trades,
                     models.positions.realized(client) - realized_before)


def _clients(store) -> set[str]:
    return {e.payload["client"] for e in store.read(types=["OrderSubmitted"])}
