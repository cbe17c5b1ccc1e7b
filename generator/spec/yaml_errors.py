"""Turn a YAML syntax error into a finding on the line where the mistake is.

The parser reports where it gave up, which is often lines after the mistake: an
unclosed quote runs on until the next quote or the end of the file, an unclosed
bracket swallows the keys below it, a key without a colon joins the next line.
`explain` looks at the error, the tokens just before it and the source text, and
names the likely start for each of those classes. Anything it does not recognise
is reported where the parser stopped, with the parser's own words.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

import yaml
from yaml.tokens import (
    FlowMappingEndToken,
    FlowMappingStartToken,
    FlowSequenceEndToken,
    FlowSequenceStartToken,
    ScalarToken,
    Token,
    ValueToken,
)

from .diagnostics import Position

# YAML's line breaks; marks count lines the same way.
_BREAK = re.compile(r"\r\n|[\r\n\x85\u2028\u2029]")
_QUOTE_NAMES = {'"': "double quote", "'": "single quote"}
_CLOSERS = {"[": "]", "{": "}"}
_GENERIC_FIX = "fix the YAML syntax at this position"


@dataclass(frozen=True)
class Explained:
    message: str
    fix: str
    position: Position


class _Source:
    """The spec text with line lookups by YAML's own line numbering (0-based)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.starts = [0] + [m.end() for m in _BREAK.finditer(text)]

    def line(self, number: int) -> str:
        if number >= len(self.starts):
            return ""
        start = self.starts[number]
        end = self.starts[number + 1] if number + 1 < len(self.starts) else len(self.text)
        return _BREAK.sub("", self.text[start:end])

    def indent(self, number: int) -> int:
        line = self.line(number)
        return len(line) - len(line.lstrip(" "))

    def at_end(self, mark: yaml.Mark) -> Position:
        """The mark's position, kept inside the file (libyaml puts the stream's end past it)."""
        if mark.line < len(self.starts):
            return _at(mark)
        last = len(self.starts) - 1
        return Position(last + 1, len(self.line(last)) + 1)

    def char(self, index: int) -> str:
        return self.text[index] if 0 <= index < len(self.text) else ""


def _at(mark: yaml.Mark, column: int | None = None) -> Position:
    return Position(mark.line + 1, (mark.column if column is None else column) + 1)


def _where(mark: yaml.Mark) -> str:
    return f"line {mark.line + 1}:{mark.column + 1}"


@dataclass
class _Before:
    """What the scanner read before the problem."""

    recent: list[Token]
    # Where each flow collection ('[' or '{') still open at the problem starts, outermost first.
    open_flows: list[yaml.Mark]


def _read_up_to(tokens: Iterable[Token], limit: int) -> _Before:
    """The tokens that start before `limit`; the scanner's own error ends the run."""
    recent: deque[Token] = deque(maxlen=6)
    open_flows: list[yaml.Mark] = []
    try:
        for token in tokens:
            if token.start_mark.index >= limit:
                break
            recent.append(token)
            if isinstance(token, (FlowSequenceStartToken, FlowMappingStartToken)):
                open_flows.append(token.start_mark)
            elif isinstance(token, (FlowSequenceEndToken, FlowMappingEndToken)) and open_flows:
                open_flows.pop()
    except yaml.YAMLError:
        pass
    return _Before(list(recent), open_flows)


def explain(text: str, error: yaml.MarkedYAMLError, tokens: Iterable[Token]) -> Explained:
    """The message, fix and position for a syntax error, at the mistake where it can tell."""
    src = _Source(text)
    problem = error.problem_mark or error.context_mark
    context = error.context_mark
    what = error.problem or ""
    during = error.context or ""
    if problem is None:
        return Explained(
            f"invalid YAML: {what or during or 'unreadable'}", _GENERIC_FIX, Position(1, 1)
        )

    tab = _tab_problem(src, problem, what)
    if tab:
        return tab
    if "escape" in what:
        return Explained(
            f"invalid YAML: {what} in a double-quoted value",
            "in double quotes a backslash starts an escape: write it twice (\\\\), or use single "
            "quotes, where a backslash is plain text",
            _at(problem),
        )
    if "quoted scalar" in during and context is not None:
        quote = src.char(context.index)
        name = _QUOTE_NAMES.get(quote, "quote")
        return Explained(
            f"the {name} opened at {_where(context)} is never closed",
            f"close it with {quote} at the end of the value on line {context.line + 1}",
            _at(context),
        )
    if "simple key" in during and context is not None:
        written = src.line(context.line).strip()
        return Explained(
            f"line {context.line + 1} ({written!r}) has no ':' after its key, and it is not a "
            "list item",
            "write it as 'key: value'; if it is text that continues the value above, quote "
            "that value",
            _at(context),
        )

    before = _read_up_to(tokens, problem.index + 1)
    at_end = not text[problem.index :].strip()
    if during.startswith("while parsing a flow") and before.open_flows:
        opened = before.open_flows[-1]
        if problem.line > opened.line or at_end:
            opener = src.char(opened.index)
            closer = _CLOSERS.get(opener, "]")
            kind = "list" if opener == "[" else "mapping"
            read_on = (
                f" (YAML read on to line {problem.line + 1} inside it)"
                if problem.line > opened.line and not at_end
                else ""
            )
            return Explained(
                f"the {kind} '{opener}' opened at {_where(opened)} is never closed{read_on}",
                f"close it with '{closer}' where the {kind} ends, on line {opened.line + 1}",
                _at(opened),
            )

    recent = before.recent
    scalars = [
        t for t in recent if isinstance(t, ScalarToken) and t.end_mark.index <= problem.index
    ]
    last = scalars[-1] if scalars else None

    if last is not None and last.style in _QUOTE_NAMES:
        opened, closed = last.start_mark, last.end_mark
        if opened.line < closed.line and closed.line == problem.line:
            quote = last.style
            return Explained(
                f"the {_QUOTE_NAMES[quote]} opened at {_where(opened)} is not closed on its line, "
                f"so YAML reads on to the {quote} on line {closed.line + 1}",
                f"close it with {quote} at the end of line {opened.line + 1}",
                _at(opened),
            )
        if closed.line == problem.line and not src.text[closed.index : problem.index].strip():
            quote = last.style
            inner = (
                "write a single quote inside single quotes as two ('it''s'), or use double quotes"
                if quote == "'"
                else 'write a double quote inside double quotes as \\", or use single quotes'
            )
            return Explained(
                f"the value's closing {_QUOTE_NAMES[quote]} at line {closed.line + 1}:{closed.column} "
                "comes before the "
                "end of the value: a quote inside a quoted value ends it",
                inner,
                _at(closed, closed.column - 1),
            )

    if src.char(problem.index) == ":" and last is not None and not last.style:
        return _colon_problem(src, problem, last, recent)

    dash = src.char(problem.index) == "-" and src.char(problem.index + 1) in " \t\r\n"
    if dash and ("block mapping" in during or "expected key" in what or "block end" in what):
        started = f" that starts at {_where(context)}" if context else ""
        return Explained(
            f"a list item ('- ') where the mapping{started} expects 'key: value'",
            "remove the '- ', or put the list under a key of its own",
            _at(problem),
        )
    if "block collection" in during or "'-' indicator" in what:
        started = f" that starts at {_where(context)}" if context else ""
        return Explained(
            f"a 'key: value' line where the list{started} expects an item ('- ')",
            "start the line with '- ', or indent it under the list item above",
            _at(problem),
        )
    if "block mapping" in during and problem.column == src.indent(problem.line):
        return Explained(
            f"line {problem.line + 1} is indented {problem.column} spaces, which lines it up with "
            "no key above it",
            "indent it exactly like the keys it belongs with",
            _at(problem),
        )

    also = f" ({during} at {_where(context)})" if during and context is not None else ""
    return Explained(f"invalid YAML: {what or during}{also}", _GENERIC_FIX, src.at_end(problem))


def _tab_problem(src: _Source, problem: yaml.Mark, what: str) -> Explained | None:
    if src.char(problem.index) != "\t" and "tab" not in what:
        return None
    line = src.line(problem.line)
    leading = line[: len(line) - len(line.lstrip(" \t"))]
    if "\t" in leading:
        return Explained(
            f"line {problem.line + 1} is indented with a tab; YAML indents with spaces only",
            "replace the tab with spaces",
            _at(problem, leading.index("\t")),
        )
    return Explained(
        "a tab character where YAML does not allow one",
        "replace the tab with spaces",
        _at(problem),
    )


def _colon_problem(
    src: _Source, problem: yaml.Mark, last: ScalarToken, recent: list[Token]
) -> Explained:
    """`mapping values are not allowed here`: a ':' YAML cannot take as a key's colon."""
    start = last.start_mark
    if start.line < problem.line:
        if start.column == src.indent(start.line):
            # The scalar sits where a key goes and runs into the next line: no colon.
            written = src.line(start.line).strip()
            return Explained(
                f"line {start.line + 1} ({written!r}) has no ':' after its key, so YAML reads it "
                f"and line {problem.line + 1} as one text",
                f"write line {start.line + 1} as 'key: value'",
                _at(start),
            )
        # A value on its key's line, continued by a line indented deeper than the keys.
        before = [t for t in recent if isinstance(t, ScalarToken) and t is not last]
        key_line = start.line
        key_token = before[-1] if before and before[-1].start_mark.line == key_line else None
        key_indent = key_token.start_mark.column if key_token else src.indent(key_line)
        key = f" ({key_token.value!r})" if key_token else ""
        column = src.indent(problem.line)
        return Explained(
            f"line {problem.line + 1} is indented {column} spaces, deeper than the key{key} on "
            f"line {key_line + 1} ({key_indent} spaces), so YAML reads it as part of that key's "
            "value",
            f"indent line {problem.line + 1} like the keys it belongs with; if the value above "
            "really continues there, quote it",
            _at(problem, column),
        )
    is_value = any(isinstance(t, ValueToken) and t.end_mark.line == start.line for t in recent)
    written = src.line(start.line)[start.column :].split(" #")[0].rstrip()
    shown = written.replace('"', '\\"')
    return Explained(
        "a second ': ' on one line" + (": the value contains ': '" if is_value else ""),
        f'quote the value so the colon is part of the text: "{shown}"',
        _at(start),
    )
