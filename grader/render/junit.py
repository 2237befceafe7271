"""JUnit XML, for CI test reporters: one testcase per case."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from grader.render.text import warnings
from grader.results import GradeResult, Status

# XML 1.0 cannot carry most control characters, which a student's exception
# message may hold; ElementTree would write them and produce invalid XML.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml_text(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


def to_junit(result: GradeResult) -> str:
    """One testsuite for the assignment, one testcase per case (classname: the
    graded function): failed cases with their messages and hints, skipped ones
    (a GPU-only check without a GPU) with the reason."""
    suite = ET.Element("testsuite", name=result.assignment, time=f"{result.seconds:.3f}")
    properties = ET.SubElement(suite, "properties")
    for name, value in (("submission", result.submission), ("status", result.status),
                        ("score", f"{result.score:g}"), ("max_score", f"{result.max_score:g}"),
                        ("percent", f"{result.percent:.2f}"),
                        ("development_seed", "true" if result.development_seed else "false"),
                        ("confinement", result.confinement), *(("warning", w) for w in warnings(result)),
                        *(("notice", n) for n in result.notices)):
        ET.SubElement(properties, "property", name=name, value=_xml_text(value))
    for f in result.functions:
        for c in f.cases:
            case = ET.SubElement(suite, "testcase", classname=f.name, name=_xml_text(c.name), time="0")
            if c.skipped:
                ET.SubElement(case, "skipped", message=_xml_text(c.skipped))
            elif not c.passed:
                first = c.messages[0].splitlines()[0] if c.messages else "wrong"
                failure = ET.SubElement(case, "failure", type="speed" if c.speed else "wrong result",
                                        message=_xml_text(f"-{c.max_score - c.score:g} points: {first}"))
                failure.text = _xml_text("\n".join([*c.messages, *(f"hint: {h}" for h in c.hints)]))
    if result.status is not Status.GRADED:
        case = ET.SubElement(suite, "testcase", classname="submission", name=result.status.value, time="0")
        kind = "error" if result.status is Status.ERROR else "failure"
        message = _xml_text(result.message)
        ET.SubElement(case, kind, type=result.status.value, message=message).text = message
    counts = {"tests": len(suite.findall("testcase")), "failures": len(suite.findall("testcase/failure")),
              "errors": len(suite.findall("testcase/error")), "skipped": len(suite.findall("testcase/skipped"))}
    suite.attrib.update({k: str(v) for k, v in counts.items()})
    root = ET.Element("testsuites", {"name": "dlgrade", "time": suite.attrib["time"],
                                     **{k: str(v) for k, v in counts.items() if k != "skipped"}})
    root.append(suite)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"
