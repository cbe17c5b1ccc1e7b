"""Adversarial YAML of many shapes and any size, for the loader's tests and its benchmark.

`make(shape, size)` returns spec text of at most `size` bytes (and close to it). The
nesting shapes nest far deeper than the loader allows; `EXCESS` gives, for each, the
line and column of the first value nested deeper than `depth` levels, computed from how
the shape is built, so a test can check that the loader points there.
"""

from __future__ import annotations

from collections.abc import Callable

PREAMBLE = "apiVersion: platformgen/v1\nproject:\n  name: deep\n"
# The shapes' own content starts on this line (after the preamble).
FIRST_LINE = PREAMBLE.count("\n") + 1
_KEY = "extra: "


def _repeat(unit: str, size: int, fixed: int) -> int:
    return max(0, (size - fixed) // len(unit))


def flow_brackets(size: int) -> str:
    depth = _repeat("[]", size, len(PREAMBLE) + len(_KEY) + 1)
    return PREAMBLE + _KEY + "[" * depth + "]" * depth + "\n"


def flow_brackets_unclosed(size: int) -> str:
    return PREAMBLE + _KEY + "[" * _repeat("[", size, len(PREAMBLE) + len(_KEY) + 1) + "\n"


def flow_braces(size: int) -> str:
    depth = _repeat("{a: }", size, len(PREAMBLE) + len(_KEY) + 1)
    return PREAMBLE + _KEY + "{a: " * depth + "}" * depth + "\n"


def flow_mixed(size: int) -> str:
    depth = _repeat("[{a: }]", size, len(PREAMBLE) + len(_KEY) + 1)
    return PREAMBLE + _KEY + "[{a: " * depth + "}]" * depth + "\n"


def flow_multiline(size: int) -> str:
    """One bracket per line: the first value too deep is many lines below the first one."""
    depth = _repeat("  [\n  ]\n", size, len(PREAMBLE) + 7)
    return PREAMBLE + "extra:\n" + "  [\n" * depth + "  ]\n" * depth


def block_mappings(size: int) -> str:
    """Keys nested by indentation, one more space per level (size grows with depth^2)."""
    out = [PREAMBLE, "extra:\n"]
    total = len(PREAMBLE) + 7
    depth = 1
    # Each line is `depth` spaces and "k:"; the last one, one level deeper, is "end".
    while total + (depth + 3) + (depth + 1 + 4) <= size:
        out.append(" " * depth + "k:\n")
        total += depth + 3
        depth += 1
    out.append(" " * depth + "end\n")
    return "".join(out)


def block_sequences(size: int) -> str:
    """Compact nested block sequences on one line: `- - - - x`."""
    depth = _repeat("- ", size, len(PREAMBLE) + 7 + 2)
    return PREAMBLE + "extra:\n" + "- " * depth + "x\n"


def long_flow_sequence(size: int) -> str:
    count = _repeat("a, ", size, len(PREAMBLE) + len(_KEY) + 4)
    return PREAMBLE + _KEY + "[" + "a, " * count + "a]\n"


def many_keys(size: int) -> str:
    out = [PREAMBLE, "extra:\n"]
    total = len(PREAMBLE) + 7
    i = 0
    while True:
        line = f"  key{i}: value{i}\n"
        if total + len(line) > size:
            break
        out.append(line)
        total += len(line)
        i += 1
    return "".join(out)


def many_documents(size: int) -> str:
    return PREAMBLE + "---\n" * _repeat("---\n", size, len(PREAMBLE))


def long_plain_scalar(size: int) -> str:
    head = PREAMBLE + "  description: "
    return head + "a" * (size - len(head) - 1) + "\n"


def long_quoted_scalar(size: int) -> str:
    head = PREAMBLE + '  description: "'
    return head + "ab " * _repeat("ab ", size, len(head) + 2) + '"\n'


def long_block_scalar(size: int) -> str:
    head = PREAMBLE + "  description: |\n"
    line = "    " + "x" * 35 + "\n"
    return head + line * _repeat(line, size, len(head))


def brackets_in_quotes(size: int) -> str:
    """Brackets inside quoted text and comments are not nesting: the file is only long."""
    half = _repeat("[{", size, len(PREAMBLE) + 2 + 1 + 17 + 2)
    return PREAMBLE + "# " + "[" * half + "\n" + "  description: '" + "{" * half + "'\n"


NESTING: dict[str, Callable[[int], str]] = {
    "flow-brackets": flow_brackets,
    "flow-brackets-unclosed": flow_brackets_unclosed,
    "flow-braces": flow_braces,
    "flow-mixed": flow_mixed,
    "flow-multiline": flow_multiline,
    "block-mappings": block_mappings,
    "block-sequences": block_sequences,
}
WIDE: dict[str, Callable[[int], str]] = {
    "long-flow-sequence": long_flow_sequence,
    "many-keys": many_keys,
    "many-documents": many_documents,
    "long-plain-scalar": long_plain_scalar,
    "long-quoted-scalar": long_quoted_scalar,
    "long-block-scalar": long_block_scalar,
    "brackets-in-quotes": brackets_in_quotes,
}
SHAPES: dict[str, Callable[[int], str]] = {**NESTING, **WIDE}


def make(shape: str, size: int) -> str:
    text = SHAPES[shape](size)
    assert len(text.encode()) <= size, (shape, size, len(text.encode()))
    return text


def excess(shape: str, depth: int) -> tuple[int, int]:
    """Line and column (1-based) of the first value with more than `depth` ancestors.

    The root mapping has none; `extra`'s value has one; each level of a shape adds one.
    """
    level = depth + 1  # the ancestors of the first value too deep
    col0 = len(_KEY) + 1  # column of extra's value on its line
    if shape in ("flow-brackets", "flow-brackets-unclosed"):
        return FIRST_LINE, col0 + (level - 1)
    if shape == "flow-braces":
        return FIRST_LINE, col0 + 4 * (level - 1)
    if shape == "flow-mixed":
        # '[' at levels 1, 3, 5, ... and '{' at 2, 4, 6, ...: five characters per pair.
        pairs, odd = divmod(level - 1, 2)
        return FIRST_LINE, col0 + 5 * pairs + odd
    if shape == "flow-multiline":
        return FIRST_LINE + level, 3
    if shape == "block-mappings":
        # Line FIRST_LINE + k holds the mapping at level k (its first key, k spaces in).
        return FIRST_LINE + level, level + 1
    if shape == "block-sequences":
        return FIRST_LINE + 1, 1 + 2 * (level - 1)
    raise KeyError(shape)
