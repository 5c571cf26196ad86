"""The simulated exchange (sim.exchange), its events (sim.events) and their store (sim.store)."""
