"""The spec loader: bounded on adversarial YAML, quotes what the user wrote, and puts syntax
errors on the line of the mistake. Each runs with libyaml and with the pure-Python parser
PyYAML falls back to, which must agree."""

from __future__ import annotations

import pytest
import yaml
from conftest import REFERENCE_SPEC, SPECS
from support.pathological_yaml import NESTING, WIDE, excess, make

from generator.spec import load_spec_text
from generator.spec.yamlpos import MAX_BYTES, MAX_DEPTH, MAX_NODES, SpecLoadError, load_yaml_text

PARSERS = pytest.mark.parametrize("pure", [False, True], ids=["libyaml", "pure-python"])
REFERENCE = REFERENCE_SPEC.read_text()


def _load_error(text: str, *, pure: bool) -> SpecLoadError:
    with pytest.raises(SpecLoadError) as caught:
        load_yaml_text(text, pure=pure)
    return caught.value


def test_libyaml_is_there() -> None:
    # The fast path is the normal one; the pinned PyYAML wheel ships libyaml.
    assert yaml.__with_libyaml__


# --- pathological YAML: bounded work, the error where the nesting goes too deep ----------


@PARSERS
@pytest.mark.parametrize("size", [40_000, 200_000, MAX_BYTES], ids=["40kB", "200kB", "1MB"])
@pytest.mark.parametrize("shape", sorted(NESTING))
def test_deep_nesting_is_refused_where_it_goes_too_deep(shape: str, size: int, pure: bool) -> None:
    text = make(shape, size)
    error = _load_error(text, pure=pure)
    assert f"more than {MAX_DEPTH} levels" in error.message
    assert (error.position.line, error.position.column) == excess(shape, MAX_DEPTH)
    assert "flatten" in error.fix


@PARSERS
@pytest.mark.parametrize("shape", sorted(NESTING))
def test_deep_nesting_is_refused_through_validate_too(shape: str, pure: bool) -> None:
    result = load_spec_text(make(shape, 40_000))
    [error] = result.errors
    assert (error.line, error.column) == excess(shape, MAX_DEPTH)


@PARSERS
@pytest.mark.parametrize("opener", ["[", "{a: ", "- "])
def test_nesting_up_to_the_limit_is_read(opener: str, pure: bool) -> None:
    # The root mapping is level 0; `extra`'s value level 1; the innermost value level 64.
    closer = {"[": "]", "{a: ": "}", "- ": ""}[opener]
    depth = MAX_DEPTH - 1
    inner = opener * depth + "x" + closer * depth
    text = f"extra: {inner}\n" if opener != "- " else f"extra:\n{inner}\n"
    doc = load_yaml_text(text, pure=pure)
    node = doc.data["extra"]
    for _ in range(depth):
        node = node[0] if isinstance(node, list) else node["a"]
    assert node == "x"
    one_more = opener * (depth + 1) + "x" + closer * (depth + 1)
    deeper = f"extra: {one_more}\n" if opener != "- " else f"extra:\n{one_more}\n"
    assert f"more than {MAX_DEPTH}" in _load_error(deeper, pure=pure).message


@PARSERS
@pytest.mark.parametrize("size", [40_000, 200_000, MAX_BYTES], ids=["40kB", "200kB", "1MB"])
@pytest.mark.parametrize("shape", sorted(WIDE))
def test_wide_and_long_files_are_read_or_refused_by_a_limit(
    shape: str, size: int, pure: bool
) -> None:
    text = make(shape, size)
    try:
        doc = load_yaml_text(text, pure=pure)
    except SpecLoadError as error:
        assert shape in {"long-flow-sequence", "many-documents", "many-keys"}, error.message
        if shape == "many-documents":
            assert "more than one YAML document" in error.message
            assert error.position.line == 4  # the first '---'
        else:
            assert f"more than {MAX_NODES} values" in error.message
        return
    assert doc.data["project"]["name"] == "deep"
    if shape.startswith("long-") and "scalar" in shape:
        assert len(doc.data["project"]["description"]) > size // 2


def test_the_value_limit_counts_values_not_keys() -> None:
    # MAX_NODES values of a mapping are MAX_NODES values plus their keys: still read.
    text = "m:\n" + "".join(f"  k{i}: {i}\n" for i in range(MAX_NODES - 2))
    assert len(load_yaml_text(text).data["m"]) == MAX_NODES - 2
    error = _load_error(text + "  last: 1\n  one-more: 2\n", pure=False)
    assert f"more than {MAX_NODES} values" in error.message


@PARSERS
def test_brackets_in_quotes_and_comments_are_not_nesting(pure: bool) -> None:
    brackets = "[" * (MAX_DEPTH * 4)
    text = f"# {brackets}\na: '{brackets}'\nb: \"{{{brackets}\"\nc: x{brackets}\n"
    assert load_yaml_text(text, pure=pure).data == {
        "a": brackets,
        "b": "{" + brackets,
        "c": "x" + brackets,
    }


@PARSERS
def test_every_good_spec_loads_the_same_with_both_parsers(pure: bool) -> None:
    for path in [REFERENCE_SPEC, *sorted(SPECS.glob("*.yaml"))]:
        text = path.read_text()
        doc = load_yaml_text(text, pure=pure)
        assert doc.data == yaml.safe_load(text)
        assert doc.values == load_yaml_text(text).values
        assert doc.written == load_yaml_text(text).written


@PARSERS
@pytest.mark.parametrize(
    ("text", "message", "line"),
    [
        ("a: &x 1\nb: *x\n", "anchors and aliases", 1),
        ("a: 1\nb: !custom 2\n", "custom YAML tag", 2),
        ("a: 1\nb: ! 2\n", "custom YAML tag", 2),
        ("a: 1\n<<: {b: 2}\n", "merge keys", 2),
        ("a: 1\nb: 2\na: 3\n", "duplicate key 'a' (first written at line 1)", 3),
        ("a: 1\n---\nb: 2\n", "more than one YAML document", 2),
        ("? [a]\n: 1\n", "mapping key must be plain text", 1),
        ("# only a comment\n", "the file is empty", 1),
        ("a: 1\nb: \x07\n", "character YAML does not allow", 2),
    ],
)
def test_the_strict_rules_still_hold(text: str, message: str, line: int, pure: bool) -> None:
    error = _load_error(text, pure=pure)
    assert message in error.message
    assert error.position.line == line


# --- scalars YAML reads as something else: the fix quotes what was written -----------------

# Every YAML 1.1 implicit type PyYAML resolves, each as written in a spec.
# fmt: off
IMPLICIT = {
    "bool": ["yes", "Yes", "YES", "no", "No", "NO", "true", "True", "TRUE", "false", "False",
             "FALSE", "on", "On", "ON", "off", "Off", "OFF"],
    "int": ["0", "+12", "-7", "0123", "000000000123", "0x1F", "0xff", "-0x1A", "0b1010",
            "+0b11", "1_000", "1__", "0_17", "1:30", "190:20:30", "-1:00"],
    "float": ["1.30", "1.0", "-2.50", ".5", "1.", "6.8523015e+5", "685.230_15e+03",
              "1_000.5", "190:20:30.15", ".inf", "-.Inf", "+.INF", ".nan", ".NaN", ".NAN"],
    "null": ["~", "null", "Null", "NULL"],
}
# fmt: on
IMPLICIT_CASES = [(kind, written) for kind, values in IMPLICIT.items() for written in values]


def _with_env_value(written: str) -> str:
    text = REFERENCE.replace("      LOG_LEVEL: info\n", f"      LOG_LEVEL: {written}\n", 1)
    assert text != REFERENCE
    return text


@pytest.mark.parametrize(
    ("kind", "written"), IMPLICIT_CASES, ids=[f"{k}:{w}" for k, w in IMPLICIT_CASES]
)
def test_type_error_quotes_the_characters_written(kind: str, written: str) -> None:
    text = _with_env_value(written)
    [error] = load_spec_text(text).errors
    assert error.code == "schema.type"
    assert error.path == "apps[1].env.LOG_LEVEL"
    assert error.fix == f'quote the value so YAML keeps it as text: "{written}"'
    assert f"YAML reads the unquoted {written} as" in error.message
    line = text.splitlines()[error.line - 1]
    assert line[error.column - 1 :] == written
    # Quoting exactly what the fix says makes the spec valid.
    assert load_spec_text(_with_env_value(f'"{written}"')).ok


@pytest.mark.parametrize(
    "written",
    [
        "y",
        "Y",
        "n",
        "N",
        "yEs",
        "tRUE",
        "0o17",
        "1e3",
        "2001-12-14",
        "2001-12-14t21:59:43.10-05:00",
        "0x",
        "0o",
    ],
)
def test_scalars_pyyaml_keeps_as_text_stay_the_text_written(written: str) -> None:
    text = _with_env_value(written)
    result = load_spec_text(text)
    assert result.ok, [d.format() for d in result.errors]
    assert result.resolved is not None
    assert load_yaml_text(text).data["apps"][1]["env"]["LOG_LEVEL"] == written


@pytest.mark.parametrize(
    ("old", "new", "path", "written"),
    [
        ('version: "1.34"', "version: 1.30", "kubernetes.version", "1.30"),
        (
            'account: "111111111111"',
            "account: 000000000123",
            "environments.dev.account",
            "000000000123",
        ),
        ("name: getprospa\n", "name: 0x1F\n", "project.name", "0x1F"),
        ("costCentre: lending", "costCentre: 1:30", "project.costCentre", "1:30"),
        ("owner: platform-team", "owner: yes", "project.owner", "yes"),
    ],
)
def test_the_issue_examples_quote_what_was_written(
    old: str, new: str, path: str, written: str
) -> None:
    text = REFERENCE.replace(old, new, 1)
    assert text != REFERENCE
    found = [d for d in load_spec_text(text).errors if d.path == path]
    assert found, load_spec_text(text).errors
    assert found[0].fix == f'quote the value so YAML keeps it as text: "{written}"'


def test_enum_finding_shows_the_text_written_and_suggests_quoting_it() -> None:
    # A string enum whose values YAML 1.1 would read as booleans when unquoted.
    text = REFERENCE.replace(
        "      minNodes: 3\n", "      minNodes: 3\n      capacityType: ON\n", 1
    )
    [error] = [d for d in load_spec_text(text).errors if d.code == "schema.enum"]
    assert "YAML reads the unquoted ON as a boolean" in error.message


def test_written_text_is_kept_for_every_scalar() -> None:
    doc = load_yaml_text("a: 1.30\nb: 'x'\nc: [0x1F, ~]\nd: |\n  text\n")
    assert doc.source(("a",)) == "1.30"
    assert doc.source(("b",)) == "'x'"
    assert doc.source(("c", 0)) == "0x1F"
    assert doc.source(("c", 1)) == "~"
    assert doc.source(("c",)) is None
    assert doc.data == {"a": 1.3, "b": "x", "c": [31, None], "d": "text\n"}


# --- syntax errors: on the line of the mistake ---------------------------------------------

SPEC_HEAD = "apiVersion: platformgen/v1\nproject:\n  name: demo\n"
# (the spec's remaining lines, the line and column of the mistake, words of the message)
SYNTAX = {
    "unclosed double quote": (
        '  description: "Demo platform\n  owner: team\n  costCentre: cc\n',
        (4, 16),
        "double quote opened at line 4:16 is never closed",
    ),
    "unclosed double quote closed by a later value": (
        '  description: "Demo platform\n  owner: team\nkubernetes:\n  version: "1.33"\n',
        (4, 16),
        "double quote opened at line 4:16 is not closed on its line",
    ),
    "unclosed single quote": (
        "  description: 'Demo platform\n  owner: team\n",
        (4, 16),
        "single quote opened at line 4:16 is never closed",
    ),
    "unclosed single quote closed by a later value": (
        "  description: 'Demo\n  owner: team\n  costCentre: 'cc'\n  region: x\n",
        (4, 16),
        "single quote opened at line 4:16 is not closed on its line",
    ),
    "quote inside a quoted value": (
        "  description: 'it's a demo'\n  owner: team\n",
        (4, 19),
        "a quote inside a quoted value ends it",
    ),
    "unclosed flow list": (
        "  tags: [a, b\n  owner: team\n  costCentre: cc\n",
        (4, 9),
        "list '[' opened at line 4:9 is never closed",
    ),
    "unclosed flow list at the end": (
        "  tags: [a, b\n",
        (4, 9),
        "list '[' opened at line 4:9 is never closed",
    ),
    "unclosed flow mapping": (
        "  tags: {a: 1\n  owner: team\n",
        (4, 9),
        "mapping '{' opened at line 4:9 is never closed",
    ),
    "tab in indentation": (
        "  owner: team\n\tcostCentre: cc\n",
        (5, 1),
        "line 5 is indented with a tab",
    ),
    "tab after spaces in indentation": (
        "  owner: team\n  \tcostCentre: cc\n",
        (5, 3),
        "line 5 is indented with a tab",
    ),
    "key indented deeper than its siblings": (
        "  owner: team\n   costCentre: cc\n",
        (5, 4),
        "line 5 is indented 3 spaces, deeper than the key ('owner') on line 4 (2 spaces)",
    ),
    "key indented to no level": (
        "kubernetes:\n    version: '1.33'\n  region: x\n",
        (6, 3),
        "line 6 is indented 2 spaces, which lines it up with no key above it",
    ),
    "missing colon before the next key": (
        "  owner team\n  costCentre: cc\n",
        (4, 3),
        "line 4 ('owner team') has no ':' after its key",
    ),
    "missing colon on the last key": (
        "  owner: team\n  costCentre cc\nkubernetes: {}\n",
        (5, 3),
        "line 5 ('costCentre cc') has no ':' after its key",
    ),
    "missing colon at the end of the file": (
        "  owner: team\n  costCentre cc\n",
        (5, 3),
        "line 5 ('costCentre cc') has no ':' after its key",
    ),
    "stray list item in a mapping": (
        "  owner: team\n  - costCentre: cc\n",
        (5, 3),
        "a list item ('- ') where the mapping that starts at line 3:3 expects 'key: value'",
    ),
    "stray list item at the top": (
        "  owner: team\n- kubernetes\n",
        (5, 1),
        "a list item ('- ')",
    ),
    "key where a list item is expected": (
        "  tags:\n    - a\n    owner: team\n",
        (6, 5),
        "where the list that starts at line 5:5 expects an item ('- ')",
    ),
    "colon inside an unquoted value": (
        "  description: Note: a demo\n",
        (4, 16),
        "a second ': ' on one line",
    ),
}


@PARSERS
@pytest.mark.parametrize("case", sorted(SYNTAX))
def test_syntax_error_is_reported_where_the_mistake_is(case: str, pure: bool) -> None:
    rest, (line, column), words = SYNTAX[case]
    error = _load_error(SPEC_HEAD + rest, pure=pure)
    assert (error.position.line, error.position.column) == (line, column), error.message
    assert words in error.message
    assert error.fix


def test_syntax_error_names_the_quote_through_validate() -> None:
    rest, (line, column), _ = SYNTAX["unclosed double quote closed by a later value"]
    result = load_spec_text(SPEC_HEAD + rest, "p.yaml")
    [error] = result.errors
    assert (error.line, error.column, error.code) == (line, column, "yaml")
    assert 'close it with " at the end of line 4' in error.fix


def test_colon_fix_quotes_the_value() -> None:
    error = _load_error(SPEC_HEAD + "  description: Note: a demo  # why\n", pure=False)
    assert error.fix == 'quote the value so the colon is part of the text: "Note: a demo"'


@PARSERS
@pytest.mark.parametrize(
    ("text", "column"),
    # The innermost collection still open when the file ends.
    [("a: [1, 2", 4), ("a: [1, 2\n", 4), ("a: [", 4), ("a: [[1]", 4), ("a: {b: [1", 8)],
)
def test_a_flow_collection_open_at_the_end_of_the_file_is_named(
    text: str, column: int, pure: bool
) -> None:
    error = _load_error(text, pure=pure)
    assert (error.position.line, error.position.column) == (1, column)
    assert "is never closed" in error.message
