"""The long fuzz run (`make fuzz`): tests/test_fuzz.py's properties on 10,000 rule files,
10,000 queries per backend, 2,000 events and 200 settings, each example within 10 s."""

from __future__ import annotations

import os
import platform
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
    # Hypothesis's statistics: per property, its passing and failing example counts and
    # typical runtimes (a failure's example is printed above them).
    output = done.stdout
    print(output[output.find("Hypothesis Statistics"):].strip() if done.returncode == 0
          else output[-8000:])
    return done.returncode


if __name__ == "__main__":
    sys.exit(main())
