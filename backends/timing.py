"""Rule timing from `settings.alerts.timing`: the defaults change nothing; a test profile
(settings/profiles/alerts-e2e.yaml) shortens windows, `for` and evaluation intervals so that an
alert can fire within a test run. Applied to alert and recording rules alike, so they agree."""
from __future__ import annotations

import re

from settings.model import Timing

_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
# A range `[5m]`, a subquery `[7d:1h]` (range and step), and `offset 1d`: a rule's timing.
_RANGE = re.compile(r"\[(\d+[smhdw])(?=[\]:])")
_STEP = re.compile(r"(?<=\d[smhdw]):(\d+[smhdw])\]")
_OFFSET = re.compile(r"\boffset (\d+[smhdw])\b")


def seconds(duration: str) -> int:
    return int(duration[:-1]) * _UNIT_S[duration[-1]]


def expr(text: str, timing: Timing) -> str:
    windows = dict(timing.windows)
    if not windows:
        return text
    text = _STEP.sub(lambda m: ":" + windows.get(m.group(1), m.group(1)) + "]", text)
    text = _RANGE.sub(lambda m: "[" + windows.get(m.group(1), m.group(1)), text)
    return _OFFSET.sub(lambda m: "offset " + windows.get(m.group(1), m.group(1)), text)


def pending(duration: str, timing: Timing) -> str:
    """An alert's `for` or `keep_firing_for`, capped at `max_for`."""
    if duration and timing.max_for and seconds(duration) > seconds(timing.max_for):
        return timing.max_for
    return duration


def interval(defined: str | None, timing: Timing) -> str | None:
    return timing.evaluation_interval or defined
