"""The README's quickstart, read the way a newcomer reads it: its fenced blocks in order."""
from __future__ import annotations

import re
from dataclasses import dataclass

from conftest import ROOT

QUICKSTART = "## Quickstart"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```\n", re.S | re.M)


@dataclass(frozen=True)
class Block:
    lang: str
    code: str
    file: str | None    # for a block the text says to save: the name it gives


def readme() -> str:
    return (ROOT / "README.md").read_text()


def quickstart_lines() -> tuple[int, int]:
    """First and last line (1-based) of the quickstart section."""
    lines = readme().splitlines()
    start = lines.index(QUICKSTART)
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    while not lines[end - 1].strip():
        end -= 1
    return start + 1, end


def quickstart_blocks() -> list[Block]:
    lines = readme().splitlines()
    start, end = quickstart_lines()
    text = "\n".join(lines[start - 1:end]) + "\n"
    blocks, pos = [], 0
    for m in FENCE.finditer(text):
        named = re.findall(r"`([\w.-]+\.py)`", text[pos:m.start()])
        blocks.append(Block(m.group(1), m.group(2), named[-1] if named and m.group(1) == "python" else None))
        pos = m.end()
    return blocks
