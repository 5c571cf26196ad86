"""The simulated exchange (sim.simulator) and its append-only event store (sim.store)."""
