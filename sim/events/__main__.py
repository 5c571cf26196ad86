"""`python -m sim.events`: print rules/events.dl, generated from the event types table."""

import sys

from sim.events.types import render_dl

sys.stdout.write(render_dl())
