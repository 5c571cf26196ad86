"""`postgres://` URLs: the same backend as `postgresql://` (libpq takes both spellings)."""

from sim.store.postgresql import open_url, remove_url

__all__ = ["open_url", "remove_url"]
