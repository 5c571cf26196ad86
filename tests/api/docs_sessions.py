"""Run the sessions shown in docs/service.md and docs/repl.md, as their tests do."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import httpx
from rich.console import Console

DOCS = Path(__file__).resolve().parents[2] / "docs"
DOC_URL = "localhost:8000"
# Values that differ from run to run (timings, ids made from the clock, hashes): compared
# by presence only.
VOLATILE = {"elapsed_ms", "uptime_s", "requests", "head_hash", "hash", "event_id", "ts",
            "correlation_id", "causation_id"}
_TIMING = re.compile(r" in \d+\.\d ms")


def curl_sessions(text: str) -> list[tuple[str, str]]:
    """(command, expected output) for every `$ curl …` line of the ```sh blocks."""
    pairs = []
    for block in re.findall(r"```sh\n(.*?)```", text, re.DOTALL):
        command, output = None, []
        for line in block.splitlines() + ["$"]:
            if line.startswith("$"):
                if command is not None:
                    pairs.append((command, "\n".join(output).strip()))
                command = line[1:].strip() if line.startswith("$ curl") else None
                output = []
            elif command is not None:
                output.append(line)
    return pairs


def run_curl(client: httpx.Client, command: str) -> str:
    """What `curl -s [-N] [-X M] [-H h] [-d body] URL` prints, through httpx."""
    words = shlex.split(command)[1:]
    method, headers, data, url, stream = None, {}, None, None, False
    while words:
        word = words.pop(0)
        if word in ("-s", "-sS"):
            continue
        if word in ("-N", "-sN"):
            stream = True
        elif word == "-X":
            method = words.pop(0)
        elif word == "-H":
            key, _, value = words.pop(0).partition(": ")
            headers[key] = value
        elif word == "-d":
            data = words.pop(0)
            headers.setdefault("Content-Type", "application/x-www-form-urlencoded")  # as curl
        else:
            url = word.replace(DOC_URL, "").replace("http://", "")
    method = method or ("POST" if data is not None else "GET")
    if stream:
        with client.stream(method, url, headers=headers, timeout=10) as response:
            lines = []
            for line in response.iter_lines():
                if not line:
                    return "\n".join(lines)
                lines.append(line)
    return client.request(method, url, headers=headers, content=data).text


def _masked(value):
    if isinstance(value, dict):
        return {k: "…" if k in VOLATILE else _masked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked(v) for v in value]
    return value


def same_output(shown: str, got: str) -> bool:
    """JSON compared with volatile values masked; SSE lines by field, their data as JSON."""
    if shown.startswith("id:"):
        def fields(text):
            parsed = dict(line.split(": ", 1) for line in text.splitlines())
            parsed["data"] = _masked(json.loads(parsed["data"]))
            return parsed
        return fields(shown) == fields(got)
    return _masked(json.loads(shown)) == _masked(json.loads(got))


def repl_sessions(text: str) -> list[tuple[str, str]]:
    """(input, expected output) for every `tempolog> …` of the ```text blocks that hold one."""
    pairs = []
    for block in re.findall(r"```text\n(.*?)```", text, re.DOTALL):
        if not block.startswith("tempolog> "):
            continue
        for chunk in re.split(r"^tempolog> ", block, flags=re.MULTILINE)[1:]:
            typed, _, output = chunk.partition("\n")
            while output.startswith("     ...> "):  # a continued query
                more, _, output = output[len("     ...> "):].partition("\n")
                typed += "\n" + more
            pairs.append((typed, output.rstrip("\n")))
    return pairs


def run_repl_input(repl, typed: str) -> str:
    """What the REPL prints for one input, on a plain 100-column console."""
    console = Console(width=100, record=True, color_system=None, highlight=False,
                      file=open("/dev/null", "w"))  # noqa: SIM115 - closed with the console
    repl.console = console
    repl.execute(typed)
    console.file.close()
    return "\n".join(line.rstrip() for line in console.export_text().splitlines())


def same_repl_output(shown: str, got: str) -> bool:
    return _TIMING.sub(" in … ms", shown) == _TIMING.sub(" in … ms", got)
