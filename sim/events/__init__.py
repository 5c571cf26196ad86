"""Events: the types table, payload validation, ids and canonical JSON, the outbox."""
