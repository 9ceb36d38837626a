"""Numbers in the book's prose come from code: the scanner of tests/prose_numbers.py."""

from prose_numbers import ALLOWED, chapters, numbers, offending, significant


def test_no_typed_numbers_in_the_chapters():
    bad = [b for p in chapters() for b in offending(p)]
    assert not bad, ("numbers of 3+ significant digits typed into prose; glue them from code, "
                     "or add them to ALLOWED in tests/prose_numbers.py with the reason:\n"
                     + "\n".join(bad))


def test_every_allowed_number_says_why():
    assert all(len(reason.split()) >= 3 for reason in ALLOWED.values())


def test_significant_digits():
    assert significant("0.316") == 3
    assert significant("60,000") == 1
    assert significant("8,068") == 4
    assert significant("1e-8") == 1
    assert significant("3.16") == 3
    assert significant("1.000") == 4


def test_the_scanner_sees_prose_and_skips_code_and_glue():
    page = "\n".join([
        "---", "jupytext: {}", "---", "",
        "The factor falls to 0.152 near t = 12.",             # prose: found
        "It is {glue:text}`c_min:.3f` at {glue:text}`t_min`.",  # glue: skipped
        "```{code-cell} ipython3", "x = 0.123456", "```",       # code cell: skipped
        "````{solution} ex-a", ":label: sol-123456",
        "Solved: the ratio is 31.6.",                          # solution prose: found
        "```python", "print(2.718)", "```",                     # code in a solution: skipped
        "````",
        "Inline `3.14159` code is skipped; $\\alpha = 0.0316$ math is not.",
    ])
    found = [n for _, n in numbers(page)]
    assert "0.152" in found and "31.6" in found and "0.0316" in found
    assert not {"0.123456", "2.718", "3.14159", "123456"} & set(found)
