"""Machine-readable results: one JSON shape for validate, check and diff; SARIF for code scanning;
and what an unexpected exception turns into.

The JSON shape is held to the JSON Schema in docs/cli.md (the block between the
result-schema markers), and the SARIF output to the official SARIF 2.1.0 schema
vendored in tests/data/sarif/ (SOURCES.md says where it comes from).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import GIT_ENV, ROOT, SPECS, TemplateRepo, git, run_cli
from jsonschema import Draft4Validator, Draft202012Validator

from generator import __version__, cli

SARIF_SCHEMA = ROOT / "tests" / "data" / "sarif" / "sarif-schema-2.1.0.json"
INVALID = SPECS / "invalid" / "policy.yaml"
REFERENCE = ROOT / "examples" / "getprospa" / "platform.yaml"


def _result_schema() -> dict[str, Any]:
    text = (ROOT / "docs" / "cli.md").read_text()
    match = re.search(
        r"<!-- result-schema:begin -->\n```json\n(.*?)\n```\n<!-- result-schema:end -->", text, re.S
    )
    assert match, "docs/cli.md lost its result-schema block"
    schema: dict[str, Any] = json.loads(match.group(1))
    Draft202012Validator.check_schema(schema)
    return schema


RESULT = Draft202012Validator(_result_schema())


def _result(proc: subprocess.CompletedProcess[str], command: str) -> dict[str, Any]:
    payload: dict[str, Any] = json.loads(proc.stdout)
    errors = sorted(RESULT.iter_errors(payload), key=str)
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)
    assert payload["command"] == command
    assert payload["exitCode"] == proc.returncode
    assert payload["ok"] is (proc.returncode == 0)
    assert payload["version"] == __version__
    for severity, key in (("error", "errors"), ("warning", "warnings"), ("note", "notes")):
        assert payload["summary"][key] == sum(
            1 for f in payload["findings"] if f["severity"] == severity
        )
    return payload


def _sarif_validator() -> Draft4Validator:
    schema = json.loads(SARIF_SCHEMA.read_text())
    assert schema["id"].endswith("/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json")
    return Draft4Validator(schema, format_checker=Draft4Validator.FORMAT_CHECKER)


def test_validate_json_has_the_documented_shape() -> None:
    ok = _result(run_cli("validate", REFERENCE, "--format", "json"), "validate")
    assert ok["ok"] and ok["target"] == str(REFERENCE)
    bad = _result(run_cli("validate", INVALID, "--format", "json"), "validate")
    assert not bad["ok"] and bad["summary"]["errors"] and bad["summary"]["warnings"]
    first = bad["findings"][0]
    assert first["file"] == str(INVALID) and first["line"] and first["path"] and first["fix"]
    missing = _result(run_cli("validate", SPECS / "nope.yaml", "--format", "json"), "validate")
    assert missing["findings"][0]["code"] == "io"


def test_validate_sarif_is_valid_sarif_on_the_specs_lines() -> None:
    validator = _sarif_validator()
    as_json = json.loads(run_cli("validate", INVALID, "--format", "json").stdout)
    rel = INVALID.relative_to(ROOT)
    proc = run_cli("validate", rel, "--format", "sarif")
    assert proc.returncode == 1
    log = json.loads(proc.stdout)
    errors = sorted(validator.iter_errors(log), key=str)
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)
    (run,) = log["runs"]
    assert run["tool"]["driver"]["name"] == "platformgen"
    assert run["tool"]["driver"]["version"] == __version__
    rules = [r["id"] for r in run["tool"]["driver"]["rules"]]
    assert len(run["results"]) == len(as_json["findings"])
    for result, finding in zip(run["results"], as_json["findings"], strict=True):
        assert result["ruleId"] == finding["code"] == rules[result["ruleIndex"]]
        assert result["level"] == finding["severity"]
        location = result["locations"][0]["physicalLocation"]
        assert location["artifactLocation"] == {"uri": rel.as_posix(), "uriBaseId": "%SRCROOT%"}
        assert location["region"] == {
            "startLine": finding["line"],
            "startColumn": finding["column"],
        }
        assert finding["message"] in result["message"]["text"]
        assert finding["fix"] in result["message"]["text"]

    # An absolute path under the working folder is still reported relative to it.
    absolute = json.loads(run_cli("validate", INVALID, "--format", "sarif").stdout)
    uri = absolute["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
    assert uri["artifactLocation"]["uri"] == rel.as_posix()

    clean = json.loads(run_cli("validate", REFERENCE, "--format", "sarif").stdout)
    assert not list(validator.iter_errors(clean))
    assert clean["runs"][0]["invocations"][0] == {"executionSuccessful": True, "exitCode": 0}


@pytest.fixture
def rendered(template_repo: TemplateRepo, tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    proc = run_cli("new", SPECS / "small.yaml", "-o", repo, "--templates", template_repo.path)
    assert proc.returncode == 0, proc.stderr
    return repo


def test_check_and_diff_json_have_the_documented_shape(
    rendered: Path, template_repo: TemplateRepo
) -> None:
    repo = rendered
    clean = _result(
        run_cli("check", repo, "--templates", template_repo.path, "--format", "json"), "check"
    )
    assert clean["ok"] and clean["summary"]["filesChecked"] > 0 and clean["templates"] == "v1.0.0"

    # A user edit on the line the next template version changes: drift now, a conflict later.
    readme = repo / "README.md"
    readme.write_text(readme.read_text().replace("Every task is a `make` target;", "Ours;"))
    git(repo, "commit", "--quiet", "-am", "our edit")
    drift = _result(
        run_cli("check", repo, "--templates", template_repo.path, "--format", "json"), "check"
    )
    assert [(f["file"], f["code"], f["unit"]) for f in drift["findings"]] == [
        ("README.md", "check.content", "repo")
    ]

    template_repo.edit(
        "templates/repo/README.md.jinja",
        lambda t: t.replace(
            "Every task is a `make` target;", "Every task is a `make` target, only;"
        ),
    )
    template_repo.tag("v1.1.0")
    diff = run_cli("diff", repo, "--update", "--templates", template_repo.path, "--format", "json")
    assert diff.returncode == cli.EXIT_CONFLICTS, diff.stderr  # as `update` would exit
    plan = _result(diff, "diff")
    assert plan["templates"] == "v1.1.0"
    conflicts = [f for f in plan["findings"] if f["code"] == "merge.conflict"]
    assert [(f["file"], f["unit"]) for f in conflicts] == [("README.md", "repo")]
    kinds = {c["path"]: c["kind"] for c in plan["changes"]}
    assert kinds["README.md"] == "conflict"
    assert kinds[".copier-answers.repo.yml"] == "update"
    answers = next(c for c in plan["changes"] if c["path"] == ".copier-answers.repo.yml")
    assert "-_commit: v1.0.0\n+_commit: v1.1.0\n" in answers["patch"]
    assert git(repo, "status", "--porcelain") == ""  # diff wrote nothing

    text = run_cli("diff", repo, "--update", "--templates", template_repo.path)
    assert text.returncode == cli.EXIT_CONFLICTS
    assert "CONFLICT README.md" in text.stderr


def test_a_command_that_cannot_run_still_answers_in_json(tmp_path: Path) -> None:
    no_spec = _result(run_cli("check", tmp_path, "--format", "json"), "check")
    assert no_spec["exitCode"] == 1 and no_spec["findings"][0]["code"] == "io"
    assert no_spec["target"] == str(tmp_path)

    (tmp_path / "platform.yaml").write_text((SPECS / "small.yaml").read_text())
    proc = run_cli(
        "diff", tmp_path, "--update", "--templates", tmp_path / "missing", "--format", "json"
    )
    gone = _result(proc, "diff")
    assert [f["code"] for f in gone["findings"]] == ["platformgen.error"]
    assert gone["findings"][0]["fix"]


def test_usage_errors_exit_with_exit_usage() -> None:
    for args in (
        ("frobnicate",),
        ("validate", REFERENCE, "--format", "xml"),
        ("check", "--format", "sarif"),
    ):
        proc = run_cli(*args)
        assert proc.returncode == cli.EXIT_USAGE == 2
        assert "usage:" in proc.stderr


# A real unexpected exception: the real CLI in a subprocess, with the spec resolver
# replaced by one with a bug (a KeyError, as a missing default would raise).
_CRASH = """
import sys
import generator.spec as spec

def resolve(data):
    return data["no-such-field"]

spec.resolve = resolve
from generator.cli import main
sys.exit(main(sys.argv[1:]))
"""


def _crash(tmp_path: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    script = tmp_path / "platformgen_with_a_bug.py"
    script.write_text(_CRASH)
    return subprocess.run(
        [sys.executable, str(script), "--no-color", "validate", str(REFERENCE)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, **GIT_ENV, "PYTHONPATH": str(ROOT), **env},
    )


def test_an_unexpected_exception_is_one_line_and_a_log(tmp_path: Path) -> None:
    proc = _crash(tmp_path, {"XDG_CACHE_HOME": str(tmp_path / "cache")})
    assert proc.returncode == cli.EXIT_BUG == 4
    log = tmp_path / "cache" / "platformgen" / "platformgen.log"
    assert proc.stderr.splitlines() == [
        "platformgen: unexpected error: KeyError: 'no-such-field' (this is a bug: please report "
        f"it at https://github.com/platformgen/platformgen/issues with the log {log})"
    ]
    assert proc.stdout == ""
    text = log.read_text()
    assert f"platformgen: {__version__} (templates v{__version__})" in text
    assert f"python: {sys.version.split()[0]}" in text
    assert "platform: Linux" in text
    assert "git: git version" in text
    assert f"command line: platformgen --no-color validate {REFERENCE}" in text
    assert "Traceback (most recent call last):" in text
    assert 'return data["no-such-field"]' in text
    assert "KeyError: 'no-such-field'" in text


def test_without_a_writable_log_the_details_go_to_stderr(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("not a folder\n")
    proc = _crash(tmp_path, {"PLATFORMGEN_LOG": str(tmp_path / "a-file" / "platformgen.log")})
    assert proc.returncode == 4
    assert "### version information" in proc.stderr
    assert "Traceback (most recent call last):" in proc.stderr
    assert (
        proc.stderr.rstrip().splitlines()[-1].startswith("platformgen: unexpected error: KeyError")
    )
