"""Hostile rule files get positioned diagnostics, never a Python exception (issue 14)."""

from __future__ import annotations

import pytest

from engine import DiagnosticError, load_program, program_from_source
from engine.lang.loader import MAX_RULE_FILE_BYTES
from engine.lang.reduce import MAX_NESTING

HEAD = ".decl p(x: number)\n.decl q(x: number)\n"


def only_error(paths) -> dict:
    with pytest.raises(DiagnosticError) as raised:
        load_program(paths)
    [diagnostic] = raised.value.diagnostics
    return diagnostic.to_dict()


def write(tmp_path, text: str | bytes, name: str = "r.dl"):
    path = tmp_path / name
    (path.write_bytes if isinstance(text, bytes) else path.write_text)(text)
    return path


def test_an_integer_past_pythons_digit_limit_is_a_syntax_error_at_the_literal(tmp_path):
    error = only_error([write(tmp_path, HEAD + "p(" + "9" * 5000 + ").\n")])
    assert (error["code"], error["line"], error["column"]) == ("syntax", 3, 3)
    assert "5000 digits is too long" in error["message"]


def test_a_float_past_the_64_bit_range_is_a_syntax_error(tmp_path):
    error = only_error([write(tmp_path, ".decl p(x: float)\np(1.0e400).\n")])
    assert (error["code"], error["line"], error["column"]) == ("syntax", 2, 3)
    assert "out of range" in error["message"]


@pytest.mark.parametrize("expression", [
    "x" + " + 1" * 1000,
    "-" * 1000 + "x",
    "count : { p(z), z = " * 300 + "1" + "}" * 300,
])
def test_deep_nesting_is_one_positioned_diagnostic_not_a_recursion_error(tmp_path, expression):
    error = only_error([write(tmp_path, HEAD + f"q(y) :- p(x), y = {expression}.\n")])
    assert error["code"] == "syntax" and error["line"] == 3 and error["column"] > 1
    assert f"nested too deeply (over {MAX_NESTING} levels)" in error["message"]


def test_nesting_within_the_limit_loads_and_parentheses_alone_do_not_nest(tmp_path):
    program = load_program([write(tmp_path, HEAD + "q(y) :- p(x), y = x" + " + 1" * 90
                                  + ".\nq(y) :- p(y), y = " + "(" * 2000 + "1" + ")" * 2000
                                  + ".\n")])
    assert len(program.rules) == 2


@pytest.mark.parametrize("path", ["a\\0b.dl", "a\\u0000b.dl"])
def test_a_nul_in_an_include_path_is_reported_at_the_include(tmp_path, path):
    error = only_error([write(tmp_path, f'.include "{path}"\n')])
    assert (error["code"], error["line"], error["column"]) == ("include-not-found", 1, 1)
    assert "NUL" in error["message"]


def test_an_include_of_a_device_is_refused_without_reading_it(tmp_path):
    error = only_error([write(tmp_path, '.include "/dev/zero"\n')])
    assert (error["code"], error["line"]) == ("include-not-found", 1)
    assert "not a regular file" in error["message"]


def test_a_rule_file_past_the_size_cap_is_refused(tmp_path):
    error = only_error([write(tmp_path, b"// " + b"x" * MAX_RULE_FILE_BYTES)])
    assert error["code"] == "file-too-large"


def test_invalid_utf8_names_the_line_and_column_of_the_byte(tmp_path):
    error = only_error([write(tmp_path, HEAD.encode() + "p(1).\n// é\xff here\n".encode()
                              .replace(b"\xc3\xbf", b"\xff"))])
    assert (error["code"], error["line"], error["column"]) == ("encoding", 4, 5)
    assert "0xff" in error["message"]


def test_a_missing_include_from_source_is_reported_at_its_line_as_lint_does(tmp_path):
    with pytest.raises(DiagnosticError) as raised:
        program_from_source('.decl p(x: number)\n.include "nope.dl"\n', str(tmp_path / "r.dl"))
    [error] = raised.value.diagnostics
    assert (error.code, error.line, error.column) == ("include-not-found", 2, 1)


@pytest.mark.parametrize("escape", ["\\ud800", "\\UFFFFFFFF", "\\x"])
def test_an_escape_that_is_no_character_is_a_syntax_error(tmp_path, escape):
    error = only_error([write(tmp_path, f'.decl s(x: symbol)\ns("a{escape}").\n')])
    assert (error["code"], error["line"], error["column"]) == ("syntax", 2, 5)


@pytest.mark.parametrize("arg", ["-_", "_ + 1", "2 * -_"])
def test_an_expression_of_a_wildcard_in_an_atom_is_refused_by_lint(tmp_path, arg):
    error = only_error([write(tmp_path, ".decl p(x: number, y: number)\n.decl r(x: number)\n"
                              f"r(x) :- p(x, {arg}).\n")])
    assert (error["code"], error["line"]) == ("wildcard-in-expression", 3)
    assert error["column"] == 14 + arg.index("_")
