"""Account balances per client: cash at trade date and settled, money bought and sold."""

from __future__ import annotations

from dataclasses import dataclass, fields

from sim.projections.base import Projection
from sim.projections.positions import _POSITION_EVENTS


@dataclass
class Account:
    """A client's money, in integer cents. `cash` moves when a trade executes, the settled
    cash when it settles (T+1); `opening` is the cash before the client's first trade."""

    client: str
    opening: int = 0
    cash: int = 0
    bought: int = 0
    sold: int = 0
    fills: int = 0  # trade legs: a wash trade counts twice
    settled_paid: int = 0
    settled_received: int = 0
    seq: int = 0
    opened: bool = False  # whether `opening` is known yet

    @property
    def settled_cash(self) -> int:
        return self.opening - self.settled_paid + self.settled_received

    def row(self) -> list:
        return [getattr(self, name) for name in _FIELDS]


_FIELDS = tuple(f.name for f in fields(Account))


class Balances(Projection):
    name = "balances"
    handlers = {"AccountOpened": "on_opened", "TradeExecuted": "on_trade",
                "TradeSettled": "on_settled", **dict.fromkeys(_POSITION_EVENTS, "on_position")}

    def __init__(self) -> None:
        super().__init__()
        self.accounts: dict[str, Account] = {}
        # A log without AccountOpened events (older runs, or a replay from the middle)
        # still tells a client's opening cash: its first position event gives the cash
        # after the first leg, and that leg's trade the amount. Trades are kept for that
        # only until every client trading in them has an opening.
        self._unopened_trades: dict[str, tuple[str, int]] = {}

    def account(self, client: str) -> Account | None:
        return self.accounts.get(client)

    def on_opened(self, seq: int, time: int, p: dict):
        account = self._account(p["client"])
        account.opening = account.cash = p["balance"]
        account.opened, account.seq = True, seq
        return (p["client"],)

    def on_trade(self, seq: int, time: int, p: dict):
        amount, buyer, seller = p["qty"] * p["price"], p["buyer"], p["seller"]
        for client, bought in ((buyer, True), (seller, False)):
            account = self._account(client)
            if not account.opened:
                self._unopened_trades[p["trade"]] = (buyer, amount)
            if bought:
                account.bought += amount
            else:
                account.sold += amount
            account.fills += 1
            account.seq = seq
        return (buyer, seller)

    def _account(self, client: str) -> Account:
        account = self.accounts.get(client)
        if account is None:
            account = self.accounts[client] = Account(client)
        return account

    def on_position(self, seq: int, time: int, p: dict):
        account = self._account(p["client"])
        first_leg = self._unopened_trades.get(p["trade"])
        if not account.opened and first_leg is not None:
            # The PositionKeeper books the buyer's leg first, so a client's first position
            # event is its buy leg when it bought in that trade. (A replay from the middle
            # of the log, without the trade, cannot tell the opening cash.)
            buyer, amount = first_leg
            account.opening = p["cash"] + amount if p["client"] == buyer else p["cash"] - amount
            account.opened = True
        account.cash, account.seq = p["cash"], seq
        return (p["client"],)

    def on_settled(self, seq: int, time: int, p: dict):
        buyer, seller = self._account(p["buyer"]), self._account(p["seller"])
        buyer.settled_paid += p["amount"]
        seller.settled_received += p["amount"]
        buyer.seq = seller.seq = seq
        return (p["buyer"], p["seller"])

    def state(self) -> dict:
        return {"last_seq": self.last_seq,
                "accounts": [a.row() for _, a in sorted(self.accounts.items())],
                "unopened_trades": dict(sorted(self._unopened_trades.items()))}

    def restore(self, state: dict) -> None:
        self.last_seq = state["last_seq"]
        self.accounts = {row[0]: Account(*row) for row in state["accounts"]}
        self._unopened_trades = {k: tuple(v) for k, v in state["unopened_trades"].items()}

    def entry(self, key):
        account = self.accounts.get(key)
        return None if account is None else account.row()
