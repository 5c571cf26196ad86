"""A CheckReport as JUnit XML: one test case per invariant, a failure per violated one."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from engine.explain.checking import CheckReport


def junit_xml(report: CheckReport, suite: str = "tempolog check") -> str:
    """The report as JUnit XML, which GitHub Actions, GitLab and Jenkins show natively."""
    failures = str(len(report.violated))
    tests = str(len(report.results))
    root = ET.Element("testsuites", name=suite, tests=tests, failures=failures, errors="0")
    cases = ET.SubElement(root, "testsuite", name=suite, tests=tests, failures=failures,
                          errors="0", skipped="0")
    for result in report.results:
        case = ET.SubElement(cases, "testcase", classname=result.path, name=result.name,
                             file=result.path, line=str(result.line))
        if not result.holds:
            first = "" if result.first_time is None else f", first at t={result.first_time}"
            failure = ET.SubElement(case, "failure", type="invariant-violated", message=(
                f"{result.count} violation{'s' * (result.count != 1)}{first}"))
            failure.text = result.render()
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, "unicode") + "\n"
