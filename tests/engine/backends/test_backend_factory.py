"""Backend selection: TEMPOLOG_BACKEND, the default, and the fallback when SWI-Prolog is missing."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import warnings

import pytest

from engine.backends import factory
from engine.backends.pydatalog.backend import PyDatalogEngine
from engine.errors import BackendUnavailable

NO_PYSWIP = textwrap.dedent("""
    import sys, warnings
    sys.modules["pyswip"] = None  # as if pyswip, or the libswipl it loads, were missing
    warnings.simplefilter("always")
    import engine
    answers = engine.evaluate("p(x) :- q(x).", {"q": [(1,), (2,)]})
    again = engine.evaluate("p(x) :- q(x).", {"q": [(3,)]})
    print(sorted(answers["p"]), sorted(again["p"]))
    try:
        engine.evaluate("p(x) :- q(x).", {"q": [(1,)]}, backend="swipl")
    except engine.BackendUnavailable as error:
        print("explicit:", error.code)
""")


def test_without_swi_prolog_the_default_falls_back_with_one_warning():
    run = subprocess.run([sys.executable, "-c", NO_PYSWIP], capture_output=True, text=True,
                         timeout=120, env={"PATH": "/usr/bin:/bin", "TEMPOLOG_BACKEND": ""})
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines() == ["[(1,), (2,)] [(3,)]", "explicit: backend-unavailable"]
    warned = [line for line in run.stderr.splitlines() if "RuntimeWarning" in line]
    assert len(warned) == 1 and "Falling back to the pyDatalog backend" in warned[0]


def test_the_environment_variable_chooses(monkeypatch):
    monkeypatch.setenv("TEMPOLOG_BACKEND", "pydatalog")
    assert factory.chosen_backend() is PyDatalogEngine
    monkeypatch.setenv("TEMPOLOG_BACKEND", "prolog")
    with pytest.raises(BackendUnavailable) as error:
        factory.chosen_backend()
    assert "swipl, pydatalog" in str(error.value)


def test_swipl_is_the_default_and_starts_without_a_warning(monkeypatch):
    monkeypatch.delenv("TEMPOLOG_BACKEND", raising=False)
    swipl = factory.backend_class("swipl")  # make installs it: its absence is a failure
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert factory.chosen_backend() is swipl


def test_an_unknown_backend_argument_raises():
    with pytest.raises(BackendUnavailable):
        factory.backend_class("souffle")
