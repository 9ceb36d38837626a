"""Find the numbers a chapter states in its prose: what a reader reads outside code and glue.

A number with three or more significant digits in prose must come from code (a ``glue`` role)
or stand on the allowlist with the reason it may be typed. Used by ``test_prose_numbers.py``;
run ``python tests/prose_numbers.py [files]`` to list what it finds.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# value as written (thousands separators removed) -> why it may be typed
ALLOWED: dict[str, str] = {
    "0.999": "beta2's default, quoted from the paper",
    "0.9999": "a beta2 of the paper's Fig. 4 grid",
    "0.995": "a beta2 the paper's Sec. 3 discusses",
    "784": "MNIST's 28 x 28 input size",
    "128": "the paper's minibatch size",
    "8068": "the size of the offline CIFAR-10 subset (its README)",
    "1017": "the test size of the offline CIFAR-10 subset (its README)",
    "1.05": "the speed target of the fast path (a requirement, not a result)",
}

YEAR = re.compile(r"^(19|20)\d\d$")

_FENCE = re.compile(r"^(`{3,}|~{3,})(.*)$")
_ROLE = re.compile(r"\{[\w:.-]+\}`[^`]*`")        # {glue:text}`x:.2f`, {cite:p}`key`, {ref}`...`
_CODE = re.compile(r"``[^`]*``|`[^`]*`")
_LINK_TARGET = re.compile(r"\]\([^)]*\)|<https?://[^>]*>|https?://\S+")
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_NUMBER = re.compile(r"(?<![\w.])(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?(?:[eE][-+]?\d+)?(?![\w])")
_LATEX_CMD = re.compile(r"\\[A-Za-z]+")


def prose_lines(text: str) -> list[tuple[int, str]]:
    """(line number, text) of the lines a reader reads as prose or math: code cells, code
    blocks, directive options and the front matter are dropped; directive bodies (exercises,
    solutions, notes, figure captions) are kept."""
    lines = text.splitlines()
    out, i = [], 0
    if lines and lines[0].strip() == "---":  # jupytext front matter
        i = lines.index("---", 1) + 1
    stack: list[tuple[str, bool]] = []  # (fence, is_prose) of the open blocks
    while i < len(lines):
        line = lines[i]
        m = _FENCE.match(line.strip())
        if m:
            fence, info = m.group(1), m.group(2).strip()
            if stack and line.strip() == stack[-1][0][0] * len(stack[-1][0]) \
                    and len(fence) == len(stack[-1][0]) and not info:
                stack.pop()
                i += 1
                continue
            is_prose = info.startswith("{") and not info.startswith(("{code-cell}", "{code}",
                                                                     "{literalinclude}"))
            stack.append((fence, is_prose and all(p for _, p in stack)))
            i += 1
            continue
        in_prose = all(p for _, p in stack)
        if in_prose and not (stack and line.strip().startswith(":") and re.match(
                r"^:[\w-]+:", line.strip())):
            out.append((i + 1, line))
        i += 1
    return out


def significant(number: str) -> int:
    """Significant digits of a number as written (integer trailing zeros do not count)."""
    mant = re.split(r"[eE]", number)[0].replace(",", "")
    if "." in mant:
        digits = mant.replace(".", "").lstrip("0")
        return len(digits)
    return len(mant.lstrip("0").rstrip("0"))


def numbers(text: str) -> list[tuple[int, str]]:
    """(line, number) for every number in the prose of a chapter, glue and code removed."""
    text = _COMMENT.sub(lambda m: "\n" * m.group(0).count("\n"), text)
    found = []
    for lineno, line in prose_lines(text):
        line = _ROLE.sub(" ", line)
        line = _CODE.sub(" ", line)
        line = _LINK_TARGET.sub(" ", line)
        line = _LATEX_CMD.sub(" ", line)
        for m in _NUMBER.finditer(line):
            found.append((lineno, m.group(0)))
    return found


def offending(path: Path) -> list[str]:
    """'file:line: number' for every typed number of 3+ significant digits not allowed."""
    out = []
    for lineno, num in numbers(path.read_text()):
        plain = num.replace(",", "")
        if significant(num) < 3 or YEAR.match(plain) or plain in ALLOWED:
            continue
        out.append(f"{path.relative_to(ROOT)}:{lineno}: {num}")
    return out


def chapters() -> list[Path]:
    return sorted(p for p in (ROOT / "book").rglob("*.md") if "_build" not in p.parts)


if __name__ == "__main__":
    paths = [Path(a).resolve() for a in sys.argv[1:]] or chapters()
    bad = [b for p in paths for b in offending(p)]
    print("\n".join(bad) or "no typed numbers of 3+ significant digits")
    print(f"{len(bad)} found", file=sys.stderr)
