"""What a store records of the run that made it: the simulator's settings, to run it again."""

from __future__ import annotations

import dataclasses
import json

from engine import TempologError
from sim.config import ClientConfig, SimConfig, SimConfigError

RUN_KEY = "sim.config"  # the store metadata entry holding the run's settings
_TUPLES = ("gtt_ticks", "order_size_bp")


class RunNotRecorded(TempologError):
    """A store that does not say which simulator settings made it."""

    code = "run-not-recorded"


def config_to_json(config: SimConfig) -> str:
    """Every setting, money in cents, as JSON. Keys keep their order: the order of symbols
    and time-in-force weights is part of the run (the simulator draws from them by index)."""
    return json.dumps(dataclasses.asdict(config), separators=(",", ":"))


def config_from_json(text: str) -> SimConfig:
    values = json.loads(text)
    known = {f.name for f in dataclasses.fields(SimConfig)}
    client_fields = {f.name for f in dataclasses.fields(ClientConfig)}
    unknown = set(values) - known
    if unknown:
        raise SimConfigError(f"the recorded run has settings this simulator does not know: "
                             f"{', '.join(sorted(unknown))}")
    clients = []
    for client in values.get("clients", ()):
        extra = set(client) - client_fields
        if extra:
            raise SimConfigError(f"the recorded client {client.get('id')} has unknown settings "
                                 f"{', '.join(sorted(extra))}")
        clients.append(ClientConfig(**{**client, "overrides": tuple(client["overrides"])}))
    values["clients"] = tuple(clients)
    for name in _TUPLES:
        if name in values:
            values[name] = tuple(values[name])
    return SimConfig(**values)


def record_run(store, config: SimConfig) -> None:
    store.set_meta(RUN_KEY, config_to_json(config))


def recorded_config(store) -> SimConfig:
    """The settings `tempolog sim` recorded in the store."""
    text = store.get_meta(RUN_KEY)
    if text is None:
        raise RunNotRecorded(f"{store.url} does not record the simulator settings that made it "
                             "(it was not written by `tempolog sim`): validate --resimulate "
                             "cannot re-run it; `tempolog validate` without it replays the log")
    return config_from_json(text)
