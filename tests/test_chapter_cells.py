"""A code cell inside a directive (an exercise's solution, say) is not a notebook cell: it is
never run, so what it asserts is never checked. Solutions with code use solution-start/-end."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FENCE = re.compile(r"^(`{3,}|~{3,})(\{[\w:-]+\})?")


def nested_code_cells(text: str) -> list[int]:
    """Line numbers of code-cell directives opened inside another fenced block."""
    open_fences: list[str] = []
    found = []
    for n, line in enumerate(text.splitlines(), 1):
        m = FENCE.match(line)
        if not m:
            continue
        fence, directive = m.groups()
        closes = (open_fences and line.strip() == fence[0] * len(fence)
                  and len(fence) >= len(open_fences[-1]))
        if closes:
            open_fences.pop()
            continue
        if directive == "{code-cell}" and open_fences:
            found.append(n)
        open_fences.append(fence)
    return found


def test_the_detector_sees_a_nested_cell_and_passes_a_gated_one():
    nested = "````{solution} ex\n:class: dropdown\n```{code-cell} ipython3\nx = 1\n```\n````\n"
    gated = ("```{solution-start} ex\n:class: dropdown\n```\n```{code-cell} ipython3\nx = 1\n"
             "```\n```{solution-end}\n```\n")
    assert nested_code_cells(nested) == [3]
    assert nested_code_cells(gated) == []


def test_no_chapter_hides_a_code_cell_inside_a_directive():
    pages = [p for d in ("book", "assignments") for p in (ROOT / d).rglob("*.md")
             if "_build" not in p.parts]
    bad = [f"{p.relative_to(ROOT)}:{n}" for p in pages for n in nested_code_cells(p.read_text())]
    assert not bad, "code cells that never run (use solution-start/solution-end):\n" + "\n".join(bad)
