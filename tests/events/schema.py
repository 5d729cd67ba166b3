"""The documented events, and a check of an event against them.

C{bbs/events.schema.json} is the contract with the tools that ingest the log;
the server only writes events, so the check lives with the tests: the unit
tests and the end-to-end harness run every event they see through
L{validate}.
"""

from __future__ import annotations

import json
import re
from functools import cache
from importlib import resources
from typing import Any

_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,), "integer": (int,), "number": (int, float), "boolean": (bool,),
    "null": (type(None),), "array": (list,),
}


@cache
def schema() -> dict[str, Any]:
    """The documented events, from C{bbs/events.schema.json}."""
    text = resources.files("bbs").joinpath("events.schema.json").read_text(encoding="utf-8")
    return json.loads(text)


def _type_problem(name: str, value: Any, spec: dict[str, Any]) -> str | None:
    kinds = spec["type"] if isinstance(spec["type"], list) else [spec["type"]]
    for kind in kinds:
        if isinstance(value, _TYPES[kind]) and (kind in ("boolean", "null")
                                                or not isinstance(value, bool)):
            pattern = spec.get("pattern")
            if pattern and isinstance(value, str) and not re.fullmatch(pattern, value):
                return f"{name}: {value!r} does not match {pattern}"
            if "enum" in spec and value not in spec["enum"]:
                return f"{name}: {value!r} is not one of {spec['enum']}"
            if kind == "array" and not all(isinstance(item, str) for item in value):
                return f"{name}: expected a list of strings"
            return None
    return f"{name}: expected {' or '.join(kinds)}, got {type(value).__name__}"


def validate(event: dict[str, Any]) -> list[str]:
    """What is wrong with C{event} according to the schema; empty if nothing."""
    doc = schema()
    eventid = event.get("eventid")
    described = doc["events"].get(eventid) if isinstance(eventid, str) else None
    if described is None:
        return [f"eventid: unknown event {eventid!r}"]
    fields = {**doc["common"], **described["fields"]}
    problems = []
    for name, spec in fields.items():
        if name not in event:
            if not spec.get("optional"):
                problems.append(f"{name}: missing")
            continue
        problem = _type_problem(name, event[name], spec)
        if problem:
            problems.append(problem)
    problems.extend(f"{name}: not a documented field of {event['eventid']}"
                    for name in event if name not in fields)
    return problems
