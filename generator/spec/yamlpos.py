"""A strict YAML loader that remembers where every value came from.

platform.yaml is read by auditors, so the loader is deliberately narrow:
one document, no anchors or aliases, no custom tags, no duplicate keys,
mapping keys always taken as the text written. Every value and key keeps its
line and column so that each finding can point at it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from .diagnostics import Position

MAX_BYTES = 1_000_000
MAX_DEPTH = 64
MAX_NODES = 200_000

_SCALAR_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:timestamp",
}

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
    """Plain Python data plus the position of every value and every mapping key."""

    data: Any
    values: dict[SpecPath, Position] = field(default_factory=dict)
    keys: dict[SpecPath, Position] = field(default_factory=dict)

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


def _pos(node: Node | yaml.Mark) -> Position:
    mark = node.start_mark if isinstance(node, Node) else node
    return Position(mark.line + 1, mark.column + 1)


class _Builder:
    def __init__(self) -> None:
        self.result = LoadedYaml(data=None)
        self.constructor = SafeConstructor()
        self.count = 0

    def build(self, node: Node, path: SpecPath, depth: int) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            raise SpecLoadError(
                f"the spec has more than {MAX_NODES} values",
                "split generated lists out of platform.yaml; a spec this large is not reviewable",
                _pos(node),
            )
        if depth > MAX_DEPTH:
            raise SpecLoadError(
                f"values are nested more than {MAX_DEPTH} levels deep",
                "flatten the structure; no spec field nests this deep",
                _pos(node),
            )
        self.result.values[path] = _pos(node)
        if isinstance(node, ScalarNode):
            return self.scalar(node)
        if isinstance(node, SequenceNode):
            self.check_tag(node, "tag:yaml.org,2002:seq")
            return [self.build(item, (*path, i), depth + 1) for i, item in enumerate(node.value)]
        if isinstance(node, MappingNode):
            self.check_tag(node, "tag:yaml.org,2002:map")
            out: dict[str, Any] = {}
            for key_node, value_node in node.value:
                if not isinstance(key_node, ScalarNode):
                    raise SpecLoadError(
                        "a mapping key must be plain text, not a list or mapping",
                        "write the key as a single word followed by a colon",
                        _pos(key_node),
                    )
                if key_node.tag == "tag:yaml.org,2002:merge" or key_node.value == "<<":
                    raise SpecLoadError(
                        "YAML merge keys (<<) are not allowed in a platform spec",
                        "write the fields out; auditors read the spec as written",
                        _pos(key_node),
                    )
                key = key_node.value
                if key in out:
                    first = self.result.keys[(*path, key)]
                    raise SpecLoadError(
                        f"duplicate key '{key}' (first written at line {first.line})",
                        f"keep one '{key}'; YAML would silently use only the last one",
                        _pos(key_node),
                    )
                self.result.keys[(*path, key)] = _pos(key_node)
                out[key] = self.build(value_node, (*path, key), depth + 1)
            return out
        raise SpecLoadError(
            "unsupported YAML node", "use plain YAML", _pos(node)
        )  # pragma: no cover

    def check_tag(self, node: Node, expected: str) -> None:
        if node.tag != expected:
            raise SpecLoadError(
                f"custom YAML tag {node.tag!r} is not allowed",
                "remove the tag; the spec is plain data",
                _pos(node),
            )

    def scalar(self, node: ScalarNode) -> Any:
        if node.tag not in _SCALAR_TAGS:
            raise SpecLoadError(
                f"custom YAML tag {node.tag!r} is not allowed",
                "remove the tag; the spec is plain data",
                _pos(node),
            )
        if node.tag == "tag:yaml.org,2002:timestamp":
            # Dates are never spec values; keep the text so the schema can say what it expects.
            return node.value
        try:
            return self.constructor.construct_object(node, deep=True)
        except (ValueError, OverflowError, yaml.YAMLError) as exc:
            raise SpecLoadError(
                f"cannot read the value {node.value!r}: {exc}",
                "quote the value to make it a string",
                _pos(node),
            ) from None


def load_yaml_text(text: str) -> LoadedYaml:
    """Parse one YAML document strictly. Raises SpecLoadError with a position."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        raise SpecLoadError(
            f"the file is larger than {MAX_BYTES // 1000} kB",
            "a platform spec is a short, reviewable file; check that this is the right file",
            Position(1, 1),
        )
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            anchor = getattr(event, "anchor", None)
            if isinstance(event, yaml.AliasEvent) or anchor:
                raise SpecLoadError(
                    "YAML anchors and aliases (&name, *name) are not allowed in a platform spec",
                    "write the values out; use apps[].environments for per-environment differences",
                    _pos(event.start_mark),
                )
        documents = list(yaml.compose_all(text, Loader=yaml.SafeLoader))
    except SpecLoadError:
        raise
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        position = _pos(mark) if mark else Position(1, 1)
        problem = exc.problem or exc.context or "invalid YAML"
        raise SpecLoadError(
            f"invalid YAML: {problem}",
            "fix the YAML syntax at this position (indentation, a missing colon or an unclosed quote)",
            position,
        ) from None
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        column = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        raise SpecLoadError(
            f"the file contains a character YAML does not allow (code point {exc.character!r})",
            "remove the control character; save the file as UTF-8 text",
            Position(line, column),
        ) from None
    except yaml.YAMLError as exc:
        raise SpecLoadError(f"invalid YAML: {exc}", "fix the YAML syntax", Position(1, 1)) from None
    except RecursionError:
        raise SpecLoadError(
            "values are nested too deeply to read",
            "flatten the structure; no spec field nests this deep",
            Position(1, 1),
        ) from None
    documents = [d for d in documents if d is not None]
    if not documents:
        raise SpecLoadError(
            "the file is empty",
            "start from examples/getprospa/platform.yaml or `platformgen show --example`",
            Position(1, 1),
        )
    if len(documents) > 1:
        raise SpecLoadError(
            "the file holds more than one YAML document",
            "keep one spec per file; remove the extra '---' and what follows it",
            _pos(documents[1]),
        )
    builder = _Builder()
    try:
        builder.result.data = builder.build(documents[0], (), 0)
    except RecursionError:
        raise SpecLoadError(
            "values are nested too deeply to read",
            "flatten the structure",
            Position(1, 1),
        ) from None
    return builder.result


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
