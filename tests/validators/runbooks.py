"""Validators of the generated runbooks (docs/runbooks/) and the pictures drawn from the spec.

A runbook is only as good as its commands. Every `make` target named in a runbook's code
must be a target of the rendered repository (read from GNU make's own database, so targets
added by any `platform.mk` count); every kit command (`dbkit ...`, and the kit arguments
passed through DBKIT_ARGS, CUTOVER_ARGS, VERIFY_ARGS, PREFLIGHT_ARGS) must name a
subcommand and options of the kit the repository pins (this project's
platformgen_dbkit); every `terraform output` and state address must exist in the rendered
roots and modules; every relative link must resolve. Which runbooks exist follows the spec
(a runbook renders only when the spec has what it describes), and the SVGs drawn from the
spec are well-formed, stay inside their canvas and say what the spec says.
(Byte-for-byte determinism of every rendered file, these included, is
tests/test_engine_render.py.)
"""

from __future__ import annotations

import argparse
import functools
import itertools
import json
import re
import shlex
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from . import RenderedRepo, nonempty, require, validator

SVG = "{http://www.w3.org/2000/svg}"

# Fences may be indented (a code block inside a list item).
FENCE = re.compile(r"^[ \t]*```[^\n]*\n(.*?)^[ \t]*```", re.M | re.S)
INLINE = re.compile(r"`([^`\n]+)`")
PLACEHOLDER = re.compile(r"<[^<>\n]*>")
MAKE = re.compile(r"(?:^|[\s;&|(])make\s+([^;&|#\n]*)")
KIT_VARS = {"DBKIT_ARGS": [], "CUTOVER_ARGS": ["cutover"], "VERIFY_ARGS": ["verify"]}
KIT_VARS["PREFLIGHT_ARGS"] = ["preflight"]
KIT_VAR = re.compile(r"\b(" + "|".join(KIT_VARS) + r""")=("[^"]*"|'[^']*'|\S+)""")
DBKIT = re.compile(r"(?:^|[\s(])dbkit\s+([a-z][a-z-]*(?:\s+[a-z][a-z-]*)?)")
TF_OUTPUT = re.compile(r"terraform\s+-chdir=infra/envs/(\S+)\s+output\s+(?:-json\s+|-raw\s+)?(\w+)")
TF_ADDRESS = re.compile(r"""['"]module\.(\w+)\[0\]\.(aws_\w+)\.(\w+)""")
LINK = re.compile(r"\]\(([^)\s]+)\)")
PLACEHOLDER_WORD = "PLACEHOLDER"


def _runbooks(repo: RenderedRepo) -> list[Path]:
    return sorted((repo.root / "docs" / "runbooks").glob("*.md"))


def _code(text: str) -> list[str]:
    """The code of a Markdown file: each line of its fenced blocks, and each inline span
    outside them (shell line continuations joined)."""
    blocks = [b.replace("\\\n", " ") for b in FENCE.findall(text)]
    prose = FENCE.sub("", text)
    return [line for b in blocks for line in b.splitlines()] + INLINE.findall(prose)


def _make_targets(repo: RenderedRepo) -> set[str]:
    """Every target GNU make knows in the rendered repository (its database, -p), without
    running a recipe (-n) or a built-in rule (-rR)."""
    require("make")
    out = subprocess.run(
        ["make", "-pRrnq", "help"], cwd=repo.root, capture_output=True, text=True, check=False
    ).stdout
    targets = set()
    for line in out.splitlines():
        m = re.match(r"^([A-Za-z0-9_.%/-]+):(?!=)", line)
        if m and not line.startswith("#"):
            targets.add(m[1])
    assert "help" in targets and "plan" in targets, "make printed no rule database"
    return targets


def _make_invocations(code: list[str]) -> list[tuple[str, list[str]]]:
    """(the code line, the targets it names) for each `make ...` in the code."""
    found = []
    for line in code:
        flat = PLACEHOLDER.sub("X", line)
        flat = re.sub(r""""[^"]*"|'[^']*'""", "''", flat)
        for m in MAKE.finditer(flat):
            words = m[1].split()
            targets = [w for w in words if "=" not in w and not w.startswith("-")]
            found.append((line, [t for t in targets if re.fullmatch(r"[a-z][a-z0-9_.-]*", t)]))
    return found


@functools.cache
def _kit_parser() -> argparse.ArgumentParser:
    from platformgen_dbkit.cli import build_parser

    return build_parser()


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:  # argparse keeps no public accessor for subcommands
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _kit_problems(argv: list[str]) -> list[str]:
    """What in `argv` the kit's command line does not have: a subcommand (nested ones
    too, as in `schema copy`) or an option of the subcommand it reaches."""
    if argv[:1] == [PLACEHOLDER_WORD]:  # e.g. DBKIT_ARGS="<kit command>": nothing to check
        return []
    parser, words, path = _kit_parser(), list(argv), ["dbkit"]
    while words and (subs := _subparsers(parser)):
        word = words[0]
        if word.startswith("-"):
            break
        if word not in subs:
            return [f"{' '.join(path)} has no subcommand {word!r} (it has {sorted(subs)})"]
        parser, path, words = subs[word], [*path, word], words[1:]
    options = {s for a in parser._actions for s in a.option_strings}
    return [
        f"{' '.join(path)} has no option {w.split('=')[0]}"
        for w in words
        if w.startswith("--") and w.split("=")[0] not in options
    ]


def _kit_invocations(code: list[str]) -> list[tuple[str, list[str]]]:
    found = []
    for line in code:
        for m in KIT_VAR.finditer(line):
            value = m[2][1:-1] if m[2][:1] in "\"'" else m[2]
            value = PLACEHOLDER.sub(PLACEHOLDER_WORD, value)
            found.append((line, [*KIT_VARS[m[1]], *shlex.split(value)]))
        for m in DBKIT.finditer(line):
            found.append((line, m[1].split()))
    return found


@validator("repo")
def runbook_make_targets_exist(repo: RenderedRepo) -> None:
    """Every `make` target a runbook names is a target of this rendered repository."""
    targets = _make_targets(repo)
    missing = []
    for path in nonempty(_runbooks(repo), "runbooks"):
        for line, named in _make_invocations(_code(path.read_text())):
            missing += [
                f"{path.name}: make {t} ({line.strip()})" for t in named if t not in targets
            ]
    assert not missing, "runbooks name make targets the repository lacks:\n" + "\n".join(missing)


@validator("database")
def runbook_kit_commands_exist(repo: RenderedRepo) -> None:
    """Every kit command of a runbook (dbkit ..., DBKIT_ARGS=..., CUTOVER_ARGS=..., ...)
    names a subcommand and options the pinned kit has."""
    problems, seen = [], 0
    for path in _runbooks(repo):
        for line, argv in _kit_invocations(_code(path.read_text())):
            seen += 1
            problems += [f"{path.name}: {p} ({line.strip()})" for p in _kit_problems(argv)]
    assert seen, "no runbook runs the kit"
    assert not problems, "runbooks name kit commands the kit lacks:\n" + "\n".join(problems)


def _module_sources(root: Path) -> dict[str, Path]:
    """module name -> its folder, from the environment roots' main.tf."""
    sources = {}
    for main in (root / "infra" / "envs").glob("*/main.tf"):
        for name, source in re.findall(
            r'module "(\w+)" \{\n(?:\s*#.*\n)*\s*source\s*=\s*"([^"]+)"', main.read_text()
        ):
            sources[name] = (main.parent / source).resolve()
    return sources


@validator("repo")
def runbook_terraform_references_exist(repo: RenderedRepo) -> None:
    """`terraform output <name>` names an output of that root; a state address
    (module.<m>[0].<type>.<name>) a resource of that module."""
    outputs = {
        env.name: set(re.findall(r'^output "(\w+)"', (env / "outputs.tf").read_text(), re.M))
        for env in (repo.root / "infra" / "envs").iterdir()
        if (env / "outputs.tf").is_file()
    }
    modules = _module_sources(repo.root)
    problems = []
    for path in _runbooks(repo):
        for line in _code(path.read_text()):
            for env, name in TF_OUTPUT.findall(line):
                roots = outputs.values() if env not in outputs else [outputs[env]]
                if not any(name in o for o in roots):
                    problems.append(f"{path.name}: no root outputs {name!r} ({line.strip()})")
            for module, kind, name in TF_ADDRESS.findall(line):
                tf = "".join(p.read_text() for p in modules.get(module, Path("/none")).glob("*.tf"))
                if f'resource "{kind}" "{name}"' not in tf:
                    problems.append(f"{path.name}: module {module} has no {kind}.{name}")
    assert not problems, "\n".join(problems)


AWS = re.compile(r"(?:^|[\s($`])aws\s+([a-z0-9-]+)\s+([a-z0-9-]+)((?:\s+[a-z0-9][a-z0-9-]*)?)")
# Options of the AWS CLI itself, and of every paginated operation.
AWS_GLOBAL = {
    "region", "output", "query", "profile", "endpoint-url", "no-cli-pager", "debug",
    "cli-input-json", "cli-input-yaml", "generate-cli-skeleton", "no-verify-ssl",
    "cli-binary-format", "color", "no-sign-request", "ca-bundle", "cli-read-timeout",
    "cli-connect-timeout", "no-paginate", "starting-token", "max-items", "page-size",
}  # fmt: skip
# Commands the CLI adds on top of the service APIs (not in botocore's models).
AWS_CUSTOM = {("s3", "*"), ("logs", "tail"), ("configure", "*"), ("eks", "update-kubeconfig")}


@functools.cache
def _aws_service(name: str) -> Any:
    import botocore.session

    return botocore.session.get_session().get_service_model(name)


@functools.cache
def _aws_waiters(name: str) -> dict[str, str]:
    import botocore.session
    from botocore import xform_name

    model = botocore.session.get_session().get_waiter_model(name)
    return {xform_name(w, "-"): model.get_waiter(w).operation for w in model.waiter_names}


def _aws_options(service: Any, operation: str) -> set[str]:
    from botocore import xform_name

    shape = service.operation_model(operation).input_shape
    options = set(AWS_GLOBAL)
    for member, member_shape in shape.members.items() if shape else []:
        options.add(xform_name(member, "-"))
        if member_shape.type_name == "boolean":
            options.add("no-" + xform_name(member, "-"))
    return options


def _aws_problems(line: str) -> list[str]:
    """What an `aws <service> <operation> --options...` line names that the AWS CLI lacks,
    read from botocore's service models (the CLI is generated from them)."""
    from botocore import xform_name
    from botocore.exceptions import UnknownServiceError

    problems = []
    for m in AWS.finditer(line):
        service_name, command, waiter = m[1], m[2], m[3].strip()
        if (service_name, "*") in AWS_CUSTOM or (service_name, command) in AWS_CUSTOM:
            continue
        try:
            service = _aws_service(service_name)
        except UnknownServiceError:
            problems.append(f"aws has no service {service_name!r}")
            continue
        operations = {xform_name(op, "-"): op for op in service.operation_names}
        if command == "wait":
            waiters = _aws_waiters(service_name)
            if waiter not in waiters:
                problems.append(f"aws {service_name} wait has no waiter {waiter!r}")
                continue
            operation = waiters[waiter]
        elif command not in operations:
            problems.append(f"aws {service_name} has no command {command!r}")
            continue
        else:
            operation = operations[command]
        # The command ends where a substitution, a pipe or another command begins.
        rest = re.split(r"\$\(|\)|\||&&|;|\baws\s", line[m.end() :], maxsplit=1)[0]
        options = _aws_options(service, operation)
        for word in re.findall(r"(?:^|\s)--([a-z0-9-]+)", rest):
            if word not in options:
                problems.append(f"aws {service_name} {command} has no option --{word}")
    return problems


@validator("repo")
def runbook_aws_commands_exist(repo: RenderedRepo) -> None:
    """Every `aws <service> <command> --option` of a runbook exists in the AWS CLI (its
    service models, botocore's): a typo in a command read at 3 a.m. costs an outage."""
    problems = []
    for path in _runbooks(repo):
        for line in _code(path.read_text()):
            problems += [f"{path.name}: {p} ({line.strip()[:100]})" for p in _aws_problems(line)]
    assert not problems, "runbooks name AWS CLI commands that do not exist:\n" + "\n".join(problems)


SPEC_ROOTS = "apiVersion|project|kubernetes|environments|apps|database|backup|edge|pipelines|artifacts|migration|observability"
SPEC_PATH = re.compile(rf"^(?:{SPEC_ROOTS})(?:\.[A-Za-z0-9_<>-]+)+(?=$|:)")


def _schema_has(schema: dict[str, Any], parts: list[str]) -> bool:
    """Whether the spec schema has the field at `parts` (a <placeholder> or any name fits
    a map's additionalProperties/patternProperties; list items are looked through)."""
    node: Any = schema
    for part in parts:
        while True:
            if "$ref" in node:
                node = schema["$defs"][node["$ref"].removeprefix("#/$defs/")]
            elif node.get("type") == "array" and isinstance(node.get("items"), dict):
                node = node["items"]
            else:
                break
        if part in node.get("properties", {}):
            node = node["properties"][part]
        elif node.get("patternProperties"):
            node = next(iter(node["patternProperties"].values()))
        elif isinstance(node.get("additionalProperties"), dict):
            node = node["additionalProperties"]
        else:
            return False
    return True


@validator("repo")
def runbook_spec_fields_exist(repo: RenderedRepo) -> None:
    """Every spec field a runbook tells the reader to set (`migration.window: open`,
    `database.parameters.long_query_time`, ...) exists in the schema this repository
    validates platform.yaml against (.platformgen/platform.v1.schema.json)."""
    schema = json.loads((repo.root / ".platformgen" / "platform.v1.schema.json").read_text())
    missing = []
    for path in _runbooks(repo):
        for span in INLINE.findall(FENCE.sub("", path.read_text())):
            found = SPEC_PATH.match(span.strip())
            if found and not _schema_has(schema, found[0].split(".")):
                missing.append(f"{path.name}: {found[0]}")
    assert not missing, "runbooks name spec fields the schema lacks:\n" + "\n".join(missing)


@validator("repo")
def runbook_links_resolve(repo: RenderedRepo) -> None:
    """Every relative link of a runbook and of the docs/ pages names a rendered file."""
    broken = []
    docs = [*sorted((repo.root / "docs").glob("*.md")), *_runbooks(repo)]
    for path in docs:
        for target in LINK.findall(path.read_text()):
            if re.match(r"[a-z]+:", target) or target.startswith("#"):
                continue
            if not (path.parent / target.split("#")[0]).exists():
                broken.append(f"{path.relative_to(repo.root)} -> {target}")
    assert not broken, "broken links:\n" + "\n".join(broken)


def _expected_database_runbooks(spec: dict[str, Any]) -> set[str]:
    expected = {
        "database-migration.md",
        "point-in-time-restore.md",
        "rotate-database-credentials.md",
        "slow-query-log.md",
    }
    if spec["database"]["version"] == "8.0":
        expected.add("mysql-major-upgrade.md")
    if "migration" in spec:
        expected |= {"migrate-from-digitalocean.md", "cutover-timeline.svg"}
    return expected


ALL_DATABASE_RUNBOOKS = {
    "database-migration.md",
    "point-in-time-restore.md",
    "rotate-database-credentials.md",
    "slow-query-log.md",
    "mysql-major-upgrade.md",
    "migrate-from-digitalocean.md",
    "cutover-timeline.svg",
}


@validator("database")
def database_runbooks_follow_the_spec(repo: RenderedRepo) -> None:
    """A runbook renders only when the spec has what it describes: the migration runbook
    and its timeline with `migration:`, the 8.0 -> 8.4 upgrade while the spec runs 8.0;
    docs/README.md lists each one rendered."""
    spec = repo.spec
    present = {p.name for p in (repo.root / "docs" / "runbooks").iterdir()} & ALL_DATABASE_RUNBOOKS
    assert present == _expected_database_runbooks(spec), present ^ _expected_database_runbooks(spec)
    index = (repo.root / "docs" / "README.md").read_text()
    for name in present - {"cutover-timeline.svg"}:
        assert f"(runbooks/{name})" in index, f"docs/README.md does not list {name}"


def _module_default_long_query_time(repo: RenderedRepo) -> str:
    main = (repo.root / "infra" / "modules" / "database" / "main.tf").read_text()
    found = re.search(r'long_query_time = "(\d+(?:\.\d+)?)"', main)
    assert found, "the database module sets no default long_query_time"
    return found[1]


@validator("database")
def database_runbooks_say_what_the_spec_says(repo: RenderedRepo) -> None:
    """The facts the database runbooks print come from the spec and the modules: the slow
    log's threshold and log groups (one per instance, replicas included), and per
    environment whether RDS manages the master password (no read replicas) or Terraform
    writes it, which decides the Blue/Green steps."""
    spec, project = repo.spec, repo.spec["project"]["name"]
    runbooks = repo.root / "docs" / "runbooks"
    slow = (runbooks / "slow-query-log.md").read_text()
    threshold = spec["database"]["parameters"].get(
        "long_query_time", _module_default_long_query_time(repo)
    )
    assert f"**{threshold} second(s)**" in slow, threshold
    rotate = (runbooks / "rotate-database-credentials.md").read_text()
    for name in spec["promotion"]:
        replicas = spec["environments"][name]["database"]["readReplicas"]
        assert f"`/aws/rds/instance/{project}-{name}/slowquery`" in slow, name
        for i in range(1, replicas + 1):
            assert f"`/aws/rds/instance/{project}-{name}-replica-{i}/slowquery`" in slow, (name, i)
        row = re.search(rf"^\| {name} \|.*$", rotate, re.M)
        assert row, f"rotate-database-credentials.md has no master row for {name}"
        assert ("RDS manages it" in row[0]) == (replicas == 0), row[0]
    upgrade = runbooks / "mysql-major-upgrade.md"
    if upgrade.exists():
        text = upgrade.read_text()
        assert "don't support" in text or "do not support" in text
        for name in spec["promotion"]:
            replicas = spec["environments"][name]["database"]["readReplicas"]
            row = re.search(rf"^\| {name} \|.*$", text, re.M)
            assert row and ("**managed by RDS**" in row[0]) == (replicas == 0), name
    apps = [a["name"] for a in spec["apps"] if a["database"]]
    for app in apps:
        assert f"| `{app}` |" in rotate and f"| `{app}-migrator` |" in rotate, app


def _svg(path: Path) -> ET.Element:
    """Parse an SVG and check that every box, line and text lies inside its viewBox."""
    root = ET.fromstring(path.read_bytes())
    assert root.tag == f"{SVG}svg", path
    box = [float(v) for v in root.get("viewBox", "").split()]
    assert len(box) == 4 and box[:2] == [0, 0], f"{path}: viewBox {box}"
    assert (float(root.get("width", "0")), float(root.get("height", "0"))) == tuple(box[2:])
    title = root.find(f"{SVG}title")
    assert title is not None and (title.text or "").strip(), f"{path}: no <title>"
    width, height = box[2:]
    for el in root.iter():
        tag = el.tag.removeprefix(SVG)
        if tag == "rect" and el.get("x") is not None:
            x, y = float(el.get("x", "0")), float(el.get("y", "0"))
            w, h = float(el.get("width", "0")), float(el.get("height", "0"))
            assert x >= 0 and x + w <= width and y >= 0 and y + h <= height, (path, el.attrib)
        elif tag == "line":
            for k, limit in (("x1", width), ("x2", width), ("y1", height), ("y2", height)):
                assert 0 <= float(el.get(k, "0")) <= limit, (path, el.attrib)
        elif tag == "polyline":
            for point in el.get("points", "").split():
                x, y = (float(v) for v in point.split(","))
                assert 0 <= x <= width and 0 <= y <= height, (path, el.attrib)
        elif tag == "text":
            assert 0 <= float(el.get("x", "0")) < width, (path, el.attrib)
            assert 0 < float(el.get("y", "0")) <= height, (path, el.attrib)
    return root


def _text(el: ET.Element) -> str:
    return " ".join(t.strip() for t in el.itertext() if t.strip())


def _groups(root: ET.Element) -> dict[str, ET.Element]:
    return {g.get("id", ""): g for g in root.iter(f"{SVG}g")}


@validator("repo")
def svgs_are_well_formed_and_inside_their_canvas(repo: RenderedRepo) -> None:
    """Every SVG of docs/ parses, has a title, and draws nothing outside its viewBox."""
    for path in nonempty(sorted((repo.root / "docs").rglob("*.svg")), "SVGs"):
        _svg(path)


def _rect_x(g: ET.Element) -> tuple[float, float]:
    rect = g.find(f"{SVG}rect")
    assert rect is not None, g.get("id")
    x = float(rect.get("x", "0"))
    return x, x + float(rect.get("width", "0"))


@validator("database", when=lambda spec: "migration" in spec)
def cutover_timeline_is_the_cutover_of_this_spec(repo: RenderedRepo) -> None:
    """The migration runbook's timeline: the 8 steps of `dbkit cutover` with CDC (the
    write freeze over steps 3-7), or the hand cutover of a full load (freeze over 1-4),
    left to right, the freeze box covering exactly the frozen steps."""
    spec, migration = repo.spec, repo.spec["migration"]
    runbook = repo.root / "docs" / "runbooks" / "migrate-from-digitalocean.md"
    assert "](cutover-timeline.svg)" in runbook.read_text()
    root = _svg(repo.root / "docs" / "runbooks" / "cutover-timeline.svg")
    title = _text(root.find(f"{SVG}title"))  # type: ignore[arg-type]
    assert spec["project"]["name"] in title and migration["targetEnvironment"] in title, title
    groups = _groups(root)
    steps = [g for g in groups if g.startswith("step-")]
    cdc = migration["dms"]["migrationType"] == "full-load-and-cdc"
    assert steps == [f"step-{i}" for i in range(1, (8 if cdc else 5) + 1)], steps
    frozen = {f"step-{i}" for i in (range(3, 8) if cdc else range(1, 5))}
    assert {s for s in steps if groups[s].get("class") == "frozen"} == frozen
    xs = [_rect_x(groups[s]) for s in steps]
    assert all(a[1] < b[0] for a, b in itertools.pairwise(xs)), "steps overlap"
    left, right = _rect_x(groups["freeze"])
    for step, (x0, x1) in zip(steps, xs, strict=True):
        assert (left <= x0 and x1 <= right) == (step in frozen), (step, left, right)
    if cdc:
        assert "switch" in _text(groups["step-7"]) and "freeze" in _text(groups["step-3"])


@validator("terraform")
def architecture_shows_the_migration_path(repo: RenderedRepo) -> None:
    """With `migration:` (and a database), docs/architecture.svg draws DigitalOcean's
    source outside the VPC, the replication instance in the private subnets and the path
    into RDS; without it, none of them."""
    root = _svg(repo.root / "docs" / "architecture.svg")
    groups = _groups(root)
    migration = repo.spec.get("migration") if "database" in repo.spec else None
    names = {"migration-source", "migration-replication"}
    assert names & set(groups) == (names if migration else set()), sorted(groups)
    if migration:
        source = _text(groups["migration-source"])
        src = migration["source"]
        for expected in (
            "DigitalOcean",
            f"schema {src['database']}, port {src['port']}",
            f"TLS {src['tls']}",
            "NAT addresses (trusted sources)",
        ):
            assert expected in source, (expected, source)
        replication = _text(groups["migration-replication"])
        assert "DMS replication" in replication, replication
        assert f"{migration['targetEnvironment']} only" in replication, replication
        assert migration["dms"]["migrationType"] in replication, replication
        width = float(root.get("viewBox", "0 0 0 0").split()[2])
        vpc = [
            r
            for r in root.iter(f"{SVG}rect")
            if r.get("stroke") == "#232f3e"  # the VPC's outline
        ]
        assert len(vpc) == 1
        vpc_right = float(vpc[0].get("x", "0")) + float(vpc[0].get("width", "0"))
        source_x, _ = _rect_x(groups["migration-source"])
        assert vpc_right < source_x <= width, "the source is not outside the VPC"
