"""The long fuzz run (`make fuzz`): tests/test_fuzz.py's properties on 10,000 rule files,
10,000 queries per backend, 2,000 events and 200 settings, each example within 10 s."""

from __future__ import annotations

import os
import platform
import re
import subprocess
import sys
import time


def main() -> int:
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    command = [sys.executable, "-m", "pytest", "tests/test_fuzz.py", "-q", "-p",
               "no:cacheprovider", "--hypothesis-show-statistics"]
    began = time.perf_counter()
    done = subprocess.run(command, env={**os.environ, "TEMPOLOG_FUZZ": "long"},
                          capture_output=True, text=True)
    elapsed = time.perf_counter() - began
    print(f"# fuzz run {started} on {platform.node()} ({platform.machine()}, "
          f"{os.cpu_count()} cores, Python {platform.python_version()}): {elapsed:.0f} s")
    # Hypothesis's statistics: one block per property, with its passing example count.
    for block in re.split(r"\n(?=tests/test_fuzz.py::)", done.stdout):
        name = re.match(r"tests/test_fuzz.py::(\S+):", block)
        passing = re.search(r"- (\d+) passing examples?, (\d+) failing", block)
        timing = re.search(r"Typical runtimes: ([^\n]+)", block)
        if name and passing:
            print(f"{name.group(1)}: {passing.group(1)} passing, {passing.group(2)} failing; "
                  f"typical runtimes {timing.group(1) if timing else '?'}")
    print(done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr)
    if done.returncode:
        print(done.stdout[-6000:], file=sys.stderr)
    return done.returncode


if __name__ == "__main__":
    sys.exit(main())
