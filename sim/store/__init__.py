"""The event store: append-only, hash-chained event logs behind one interface."""
