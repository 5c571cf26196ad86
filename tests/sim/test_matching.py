"""The order book: price-time priority, checked against a naive book and by its invariants."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from sim.exchange.book import OrderBook
from sim.exchange.orders import BUY, SELL, Order


class NaiveBook:
    """The specification: scan every resting order, take the best price, then the oldest."""

    def __init__(self, self_match: bool):
        self.self_match = self_match
        self.orders: list[Order] = []
        self.arrivals = 0

    def submit(self, order: Order, rest: bool = True):
        fills, cancelled = [], []
        while order.qty > 0:
            crossing = [r for r in self.orders if r.side != order.side and (
                r.price <= order.price if order.side == BUY else r.price >= order.price)]
            if not crossing:
                break
            best = min(crossing, key=lambda r: (r.price if r.side == SELL else -r.price,
                                                r.arrival))
            if best.client == order.client and not self.self_match:
                self.orders.remove(best)
                cancelled.append(best.id)
                continue
            qty = min(best.qty, order.qty)
            best.qty -= qty
            order.qty -= qty
            fills.append((best.id, order.id, qty, best.price, best.qty, order.qty))
            if best.qty == 0:
                self.orders.remove(best)
        if rest and order.qty:
            self.arrivals += 1
            order.arrival = self.arrivals
            self.orders.append(order)
        return fills, cancelled

    def cancel(self, order_id: str):
        for order in self.orders:
            if order.id == order_id:
                self.orders.remove(order)
                return order
        return None

    def modify(self, order_id: str, qty: int, price: int):
        order = next(o for o in self.orders if o.id == order_id)
        if price == order.price and qty <= order.qty:
            order.qty = qty
            return [], []
        self.orders.remove(order)
        order.qty, order.price = qty, price
        return self.submit(order)

    def depth(self):
        def ranked(side, sign):
            return sorted((o for o in self.orders if o.side == side),
                          key=lambda o: (-sign * o.price, o.arrival))
        return ranked(BUY, 1), ranked(SELL, -1)


submits = st.tuples(st.just("submit"), st.sampled_from([BUY, SELL]), st.integers(95, 105),
                    st.integers(1, 30), st.sampled_from(["a", "b", "c"]), st.booleans())
cancels = st.tuples(st.just("cancel"), st.integers(0, 10_000))
modifies = st.tuples(st.just("modify"), st.integers(0, 10_000), st.integers(-3, 3),
                     st.integers(0, 100))
operations = st.lists(st.one_of(submits, submits, cancels, modifies), max_size=80)


def _fills(result):
    fills, cancelled = result
    return ([(f.resting.id, f.incoming.id, f.qty, f.price, f.resting_left, f.incoming_left)
             for f in fills], [o.id for o in cancelled])


@settings(max_examples=150, deadline=None)
@given(operations, st.booleans())
def test_the_book_matches_the_naive_book_and_keeps_its_invariants(ops, self_match):
    book, naive = OrderBook("AAPL", self_match=self_match), NaiveBook(self_match)
    submitted: dict[str, Order] = {}  # the book's orders, by id
    sides: dict[str, str] = {}
    filled: dict[str, int] = {}
    for number, op in enumerate(ops):
        if op[0] == "submit":
            _, side, price, qty, client, rest = op
            order_id = f"O{number}"
            mine = Order(order_id, client, "AAPL", side, qty, price)
            theirs = Order(order_id, client, "AAPL", side, qty, price)
            submitted[order_id], sides[order_id] = mine, side
            got = _fills(book.submit(mine, rest=rest))
            assert got == naive.submit(theirs, rest=rest)
        elif not book.resting:
            continue
        elif op[0] == "cancel":
            order_id = sorted(book.resting)[op[1] % len(book.resting)]
            assert book.cancel(order_id).id == naive.cancel(order_id).id
            got = ([], [])
        else:
            _, pick, move, share = op
            order_id = sorted(book.resting)[pick % len(book.resting)]
            order = book.resting[order_id]
            qty = max(1, order.qty * share // 100)  # modifications never add shares
            price = max(1, order.price + move)
            got = _fills(book.modify(order_id, qty, price))
            assert got == naive.modify(order_id, qty, price)

        for resting_id, incoming_id, qty, price, _, _ in got[0]:
            assert qty > 0
            assert {sides[resting_id], sides[incoming_id]} == {BUY, SELL}  # one buy, one sell
            incoming = submitted[incoming_id]  # trades at the resting price, within the limit
            assert price == submitted[resting_id].price
            assert price <= incoming.price if incoming.side == BUY else price >= incoming.price
            assert submitted[resting_id].symbol == submitted[incoming_id].symbol == "AAPL"
            if not self_match:
                assert submitted[resting_id].client != submitted[incoming_id].client
            for order_id in (resting_id, incoming_id):
                filled[order_id] = filled.get(order_id, 0) + qty
        bid, ask = book.best_bid(), book.best_ask()
        assert bid is None or ask is None or bid < ask  # never crossed after matching
        bids, asks = book.depth()
        naive_bids, naive_asks = naive.depth()
        assert [o.id for o in bids] == [o.id for o in naive_bids]
        assert [o.id for o in asks] == [o.id for o in naive_asks]
        assert all(o.qty > 0 for o in bids + asks)
    for order_id, quantity in filled.items():
        order = submitted[order_id]
        assert quantity == order.filled
        assert order.filled + order.qty <= next(op[3] for n, op in enumerate(ops)
                                                if f"O{n}" == order_id)


def test_price_then_time_priority_on_a_small_book():
    book = OrderBook("MSFT")
    early = Order("s1", "a", "MSFT", SELL, 10, 101)
    late = Order("s2", "b", "MSFT", SELL, 10, 101)
    cheap = Order("s3", "c", "MSFT", SELL, 5, 100)
    for order in (early, late, cheap):
        book.submit(order)
    fills, _ = book.submit(Order("b1", "d", "MSFT", BUY, 18, 102))
    assert [(f.resting.id, f.qty, f.price) for f in fills] == [
        ("s3", 5, 100), ("s1", 10, 101), ("s2", 3, 101)]
    assert book.best_ask() == 101 and book.resting["s2"].qty == 7
    assert book.best_bid() is None


def test_lowering_quantity_keeps_priority_but_repricing_loses_it():
    book = OrderBook("MSFT")
    for order_id in ("s1", "s2"):
        book.submit(Order(order_id, order_id, "MSFT", SELL, 10, 101))
    book.modify("s1", 4, 101)
    assert [o.id for o in book.depth()[1]] == ["s1", "s2"]
    book.modify("s1", 4, 102)
    book.modify("s1", 4, 101)
    assert [o.id for o in book.depth()[1]] == ["s2", "s1"]


def test_self_match_prevention_cancels_the_resting_order():
    book = OrderBook("TSLA", self_match=False)
    book.submit(Order("s1", "a", "TSLA", SELL, 10, 100))
    book.submit(Order("s2", "b", "TSLA", SELL, 10, 100))
    fills, cancelled = book.submit(Order("b1", "a", "TSLA", BUY, 5, 100))
    assert [o.id for o in cancelled] == ["s1"]
    assert [(f.resting.id, f.qty) for f in fills] == [("s2", 5)]
