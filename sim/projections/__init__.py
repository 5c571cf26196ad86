"""Read models rebuilt from the event log: positions, trade history, account balances."""

from sim.projections.balances import Balances
from sim.projections.base import Projection
from sim.projections.models import ReadModels, StateDifference
from sim.projections.positions import Positions
from sim.projections.trades import Trades

__all__ = ["Balances", "Positions", "Projection", "ReadModels", "StateDifference", "Trades"]
