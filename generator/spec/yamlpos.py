"""A strict YAML loader that remembers where every value came from.

platform.yaml is read by auditors, so the loader is deliberately narrow:
one document, no anchors or aliases, no custom tags, no duplicate keys,
mapping keys always taken as the text written. Every value and key keeps its
line and column so that each finding can point at it, and every scalar keeps the
characters the user wrote (`1.30`, `0123`, `yes`), so a fix can quote them.

The loader is bounded: it composes the document itself from the parser's event
stream, one event at a time, and stops at the first value nested more than
MAX_DEPTH levels, the first value past MAX_NODES, the second document, or the
first anchor. libyaml (PyYAML's C parser) scans; it caps flow nesting itself. When
PyYAML was built without it, the pure-Python scanner is guarded the same way,
since it slows down quadratically with nesting depth.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.events import (
    AliasEvent,
    DocumentStartEvent,
    Event,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
)
from yaml.nodes import ScalarNode
from yaml.resolver import Resolver
from yaml.tokens import Token

from .diagnostics import Position
from .yaml_errors import explain

MAX_BYTES = 1_000_000
MAX_DEPTH = 64
MAX_NODES = 50_000

_SCALAR_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:timestamp",
}
_NON_PRINTABLE = yaml.reader.Reader.NON_PRINTABLE

SpecPath = tuple[str | int, ...]


class SpecLoadError(Exception):
    """The file is not a readable spec. Carries a position and a fix."""

    def __init__(self, message: str, fix: str, position: Position, code: str = "yaml") -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix
        self.position = position
        self.code = code


@dataclass
class LoadedYaml:
    """Plain Python data plus the position of every value and every mapping key.

    `written` keeps, for every scalar value, the characters as they stand in the file
    (quotes included), so a finding about a value YAML converted can quote the original.
    """

    data: Any
    values: dict[SpecPath, Position] = field(default_factory=dict)
    keys: dict[SpecPath, Position] = field(default_factory=dict)
    written: dict[SpecPath, str] = field(default_factory=dict)
    # The whole file, for checks that read what surrounds a value (its line's comment).
    text: str = ""

    def position(self, path: SpecPath, *, key: bool = False) -> Position:
        """Where `path` is written; falls back to the nearest written parent."""
        table = self.keys if key else self.values
        probe = tuple(path)
        while probe:
            if probe in table:
                return table[probe]
            if not key and probe in self.keys:
                return self.keys[probe]
            probe = probe[:-1]
        return self.values.get((), Position(1, 1))

    def source(self, path: SpecPath) -> str | None:
        """The scalar at `path` exactly as written in the file, or None when it is not a scalar."""
        return self.written.get(tuple(path))


def _pos(mark: yaml.Mark) -> Position:
    return Position(mark.line + 1, mark.column + 1)


def _too_deep_at(position: Position) -> SpecLoadError:
    return SpecLoadError(
        f"values are nested more than {MAX_DEPTH} levels deep from here on",
        "flatten the structure; no spec field nests more than a few levels",
        position,
    )


class _TooDeep(Exception):
    def __init__(self, mark: yaml.Mark) -> None:
        super().__init__("too deep")
        self.mark = mark


class _GuardedLoader(yaml.SafeLoader):
    """The pure-Python parser with flow nesting capped (its scanner is quadratic in depth)."""

    def fetch_flow_collection_start(self, TokenClass: type[Token]) -> None:
        if self.flow_level >= MAX_DEPTH:
            raise _TooDeep(self.get_mark())
        super().fetch_flow_collection_start(TokenClass)  # type: ignore[misc]


def _loader_class(pure: bool) -> type:
    if not pure and getattr(yaml, "__with_libyaml__", False):
        return yaml.CSafeLoader  # type: ignore[no-any-return]
    return _GuardedLoader


def _tokens(text: str, loader_class: type) -> Iterator[Token]:
    loader = loader_class(text)
    try:
        while loader.check_token():
            yield loader.get_token()
    finally:
        loader.dispose()


class _Frame:
    __slots__ = ("key", "mapping", "out", "path")

    def __init__(self, path: SpecPath, out: dict[str, Any] | list[Any]) -> None:
        self.path = path
        self.out = out
        self.mapping = isinstance(out, dict)
        # In a mapping: the key read and waiting for its value.
        self.key: str | None = None


_STR = "tag:yaml.org,2002:str"
# No tag: the resolver decides. A standard tag (!!str) is taken; the bare "!" is refused.
_PLAIN_TAGS = (None,)


class _Composer:
    """Builds plain data from parser events, with every limit checked as events arrive.

    One loop over the events, no recursion: the work is linear in the events read, and
    reading stops at the first one past a limit.
    """

    def __init__(self, text: str, loader_class: type) -> None:
        self.text = text
        self.loader_class = loader_class
        self.result = LoadedYaml(data=None, text=text)
        self.constructor = SafeConstructor()
        self.count = 0
        self.documents = 0
        self.stack: list[_Frame] = []
        # Where the last event ended: libyaml's own nesting error comes from beyond it.
        self.seen = 0

    def run(self) -> LoadedYaml:
        text = self.text
        result = self.result
        values, written = result.values, result.written
        stack = self.stack
        implicit = Resolver.yaml_implicit_resolvers
        loader = self.loader_class(text)
        try:
            while loader.check_event():
                event = loader.get_event()
                kind = type(event)
                start_mark = event.start_mark
                self.seen = event.end_mark.index
                if kind is ScalarEvent or kind is MappingStartEvent or kind is SequenceStartEvent:
                    if event.anchor:
                        raise _anchor(event)
                    depth = len(stack)
                    position = Position(start_mark.line + 1, start_mark.column + 1)
                    if depth:
                        parent = stack[-1]
                        if not parent.mapping:
                            path: SpecPath = (*parent.path, len(parent.out))
                        elif parent.key is None:
                            if kind is not ScalarEvent:
                                raise SpecLoadError(
                                    "a mapping key must be plain text, not a list or mapping",
                                    "write the key as a single word followed by a colon",
                                    position,
                                )
                            self.key(event, parent, position)
                            continue
                        else:
                            path = (*parent.path, parent.key)
                    else:
                        parent = None
                        path = ()
                    # A value (never a key) with more ancestors than MAX_DEPTH, or past MAX_NODES.
                    if depth > MAX_DEPTH:
                        raise _too_deep_at(position)
                    self.count += 1
                    if self.count > MAX_NODES:
                        raise _too_many(event)
                    values[path] = position
                    if kind is ScalarEvent:
                        written[path] = text[start_mark.index : event.end_mark.index]
                        tag = event.tag
                        value = event.value
                        if tag in _PLAIN_TAGS:
                            # Resolver.resolve, without its path resolvers (none are set).
                            tag = _STR
                            if event.implicit[0]:
                                for candidate, pattern in implicit.get(value[:1], ()):
                                    if pattern.match(value):
                                        tag = candidate
                                        break
                        if tag != _STR:
                            value = self.construct(event, tag)
                    else:
                        mapping = kind is MappingStartEvent
                        expected = "tag:yaml.org,2002:map" if mapping else "tag:yaml.org,2002:seq"
                        if event.tag not in _PLAIN_TAGS and event.tag != expected:
                            raise _custom_tag(event)
                        value = {} if mapping else []
                    if parent is None:
                        result.data = value
                    elif parent.mapping:
                        parent.out[parent.key] = value  # type: ignore[index]
                        parent.key = None
                    else:
                        parent.out.append(value)  # type: ignore[union-attr]
                    if kind is not ScalarEvent:
                        stack.append(_Frame(path, value))
                elif kind is SequenceEndEvent or kind is MappingEndEvent:
                    stack.pop()
                elif kind is AliasEvent:
                    raise _anchor(event)
                elif kind is DocumentStartEvent:
                    self.documents += 1
                    if self.documents > 1:
                        raise SpecLoadError(
                            "the file holds more than one YAML document",
                            "keep one spec per file; remove the extra '---' and what follows it",
                            _pos(start_mark),
                        )
        finally:
            loader.dispose()
        return result

    def key(self, event: ScalarEvent, parent: _Frame, position: Position) -> None:
        if event.tag not in _PLAIN_TAGS and event.tag != _STR:
            raise _custom_tag(event)
        key = event.value
        if key == "<<" and event.implicit[0]:
            raise SpecLoadError(
                "YAML merge keys (<<) are not allowed in a platform spec",
                "write the fields out; auditors read the spec as written",
                position,
            )
        if key in parent.out:
            first = self.result.keys[(*parent.path, key)]
            raise SpecLoadError(
                f"duplicate key '{key}' (first written at line {first.line})",
                f"keep one '{key}'; YAML would silently use only the last one",
                position,
            )
        self.result.keys[(*parent.path, key)] = position
        parent.key = key

    def construct(self, event: ScalarEvent, tag: str) -> Any:
        if tag not in _SCALAR_TAGS:
            raise _custom_tag(event)
        if tag == "tag:yaml.org,2002:timestamp":
            # Dates are never spec values; keep the text so the schema can say what it expects.
            return event.value
        node = ScalarNode(tag, event.value, event.start_mark, event.end_mark, event.style)
        try:
            return self.constructor.yaml_constructors[tag](self.constructor, node)
        except (ValueError, OverflowError, yaml.YAMLError) as exc:
            raise SpecLoadError(
                f"cannot read the value {event.value!r}: {exc}",
                "quote the value to make it a string",
                _pos(event.start_mark),
            ) from None


def _anchor(event: Event) -> SpecLoadError:
    return SpecLoadError(
        "YAML anchors and aliases (&name, *name) are not allowed in a platform spec",
        "write the values out; use apps[].environments for per-environment differences",
        _pos(event.start_mark),
    )


def _too_many(event: Event) -> SpecLoadError:
    return SpecLoadError(
        f"the spec has more than {MAX_NODES} values",
        "split generated lists out of platform.yaml; a spec this large is not reviewable",
        _pos(event.start_mark),
    )


def _custom_tag(event: Event) -> SpecLoadError:
    return SpecLoadError(
        f"custom YAML tag {event.tag!r} is not allowed",  # type: ignore[attr-defined]
        "remove the tag; the spec is plain data",
        _pos(event.start_mark),
    )


_OPENERS = re.compile(r"""[\[\]{}"'#\n]""")


def _locate_excess(text: str, start: int, end: int, depth: int) -> int | None:
    """Where flow nesting passes MAX_DEPTH between `start` and `end`, counting from `depth`.

    Used only when libyaml stops on its own nesting limit before it hands over the events
    of that stretch (it scans ahead while a simple key may still follow). The stretch is
    short: the scanner holds back at most a line or 1024 characters.
    """
    i = start
    while True:
        match = _OPENERS.search(text, i, end)
        if match is None:
            return None
        i = match.start()
        char = text[i]
        if char in "[{":
            if depth > MAX_DEPTH:
                return i
            depth += 1
        elif char in "]}":
            depth -= 1
        elif char == "#":
            newline = text.find("\n", i, end)
            i = end if newline < 0 else newline
            continue
        elif char in "\"'" and (i == 0 or text[i - 1] in " \t[{,:\n"):
            close = text.find(char, i + 1, end)
            i = end if close < 0 else close
        i += 1


def _nested_in_flow(text: str, composer: _Composer, mark: yaml.Mark | None) -> SpecLoadError:
    """The depth error when the scanner, not the composer, found the deep flow nesting.

    The scanner reads ahead of the events, so it stops a few brackets past the first value
    nested too deep; find that value between the last event and where the scanner stopped.
    """
    end = mark.index + 1 if mark else len(text)
    index = _locate_excess(text, composer.seen, end, len(composer.stack))
    if index is not None:
        return _too_deep_at(_line_col(text, index))
    return _too_deep_at(_pos(mark) if mark else Position(1, 1))


def _line_col(text: str, index: int) -> Position:
    line = len(re.findall(r"\r\n|[\r\n\x85\u2028\u2029]", text[:index])) + 1
    start = max(text.rfind(c, 0, index) for c in "\r\n\x85\u2028\u2029") + 1
    return Position(line, index - start + 1)


def load_yaml_text(text: str, *, pure: bool = False) -> LoadedYaml:
    """Parse one YAML document strictly. Raises SpecLoadError with a position.

    `pure` uses PyYAML's pure-Python parser even when libyaml is there (for tests of the
    fallback).
    """
    if len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        raise SpecLoadError(
            f"the file is larger than {MAX_BYTES // 1000} kB",
            "a platform spec is a short, reviewable file; check that this is the right file",
            Position(1, 1),
        )
    bad = _NON_PRINTABLE.search(text)
    if bad:
        raise SpecLoadError(
            f"the file contains a character YAML does not allow (code point U+{ord(bad.group()):04X})",
            "remove the control character; save the file as UTF-8 text",
            _line_col(text, bad.start()),
        )
    loader_class = _loader_class(pure)
    composer = _Composer(text, loader_class)
    try:
        result = composer.run()
    except SpecLoadError:
        raise
    except _TooDeep as exc:
        raise _nested_in_flow(text, composer, exc.mark) from None
    except yaml.MarkedYAMLError as exc:
        if "nesting depth" in f"{exc.problem} {exc.context}":
            raise _nested_in_flow(text, composer, exc.problem_mark or exc.context_mark) from None
        explained = explain(text, exc, _tokens(text, loader_class))
        raise SpecLoadError(explained.message, explained.fix, explained.position) from None
    except yaml.YAMLError as exc:
        raise SpecLoadError(f"invalid YAML: {exc}", "fix the YAML syntax", Position(1, 1)) from None
    except RecursionError:
        raise SpecLoadError(
            "values are nested too deeply to read",
            "flatten the structure; no spec field nests this deep",
            Position(1, 1),
        ) from None
    if composer.documents == 0 or (result.data is None and result.written.get((), "") == ""):
        raise SpecLoadError(
            "the file is empty",
            "start from examples/getprospa/platform.yaml or `platformgen show --example`",
            Position(1, 1),
        )
    return result


def read_text(path: Path) -> str:
    """Read a spec file as UTF-8, turning OS and decoding problems into SpecLoadError."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise SpecLoadError(
            "the file does not exist",
            "pass the path of your platform.yaml",
            Position(1, 1),
            code="io",
        ) from None
    except IsADirectoryError:
        raise SpecLoadError(
            "this is a directory, not a spec file",
            "pass the path of the platform.yaml inside it",
            Position(1, 1),
            code="io",
        ) from None
    except OSError as exc:
        raise SpecLoadError(
            f"cannot read the file: {exc.strerror}",
            "check the path and its permissions",
            Position(1, 1),
            code="io",
        ) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        prefix = raw[: exc.start]
        line = prefix.count(b"\n") + 1
        column = exc.start - (prefix.rfind(b"\n") + 1) + 1
        raise SpecLoadError(
            "the file is not valid UTF-8",
            "save the file as UTF-8 text",
            Position(line, column),
        ) from None
    return text.removeprefix("\ufeff")
