"""The Python lock files the templates ship: exact pins with every file's sha256.

The service image and `make setup` install `templates/service/requirements*.lock`, the
database kit's `make database-setup` installs `templates/database/database/requirements.lock`
(the kit's wheel and its dependencies, written by `make dbkit-lock`: tests/test_dbkit_kit.py),
all with `pip --require-hashes --only-binary :all:`. Here: each file pins exactly (name ==
version, hashes only, nothing else), the dev lock is the run-time lock plus the test tools
(same versions, same hashes), pyproject.toml's direct pins are the locked versions, and
tools/service.txt (platformgen's own venv for the rendered services) is the service's dev
lock. That the pins install is proven for real: the service validator builds the image
(tests/validators/service.py), the database validator runs `make database-setup` with a fresh build of the kit's wheel.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import ROOT
from support.requirements import Pin, normalise, read_pins

SERVICE = ROOT / "templates" / "service"
KIT = ROOT / "templates" / "database" / "database"
KITS = {"service": (SERVICE, "test")}


def _direct_pins(pyproject: Path, extra: str) -> tuple[dict[str, str], dict[str, str]]:
    """pyproject.toml's run-time and `extra` pins (the service's is a template: read as text)."""
    text = pyproject.read_text()

    def pins(block: str) -> dict[str, str]:
        return {normalise(n): v for n, v in re.findall(r'"([A-Za-z0-9_.-]+)==([^"]+)"', block)}

    runtime = re.search(r"^dependencies = \[(.*?)\]", text, re.S | re.M)
    extras = re.search(rf"^{extra} = \[(.*?)\]", text, re.S | re.M)
    assert runtime and extras, f"{pyproject}: no dependencies / {extra} list"
    return pins(runtime[1]), pins(extras[1])


@pytest.mark.parametrize("kit", sorted(KITS))
def test_locks_pin_exactly_with_hashes(kit: str) -> None:
    folder, extra = KITS[kit]
    runtime, dev = (
        read_pins(folder / "requirements.lock"),
        read_pins(folder / "requirements-dev.lock"),
    )
    assert runtime and all(pin.hashes for pin in runtime.values())
    # The dev lock is a superset: the same run-time pins and hashes, plus the test tools.
    assert {name: dev.get(name) for name in runtime} == runtime
    direct, tools = _direct_pins(folder / "pyproject.toml.jinja", extra)
    assert {n: runtime[n].version for n in direct if n in runtime} == direct, (
        "pyproject.toml and requirements.lock disagree"
    )
    assert {n: dev[n].version for n in tools if n in dev} == tools, (
        f"the {extra} extra and requirements-dev.lock disagree"
    )


def test_the_installers_require_hashes() -> None:
    """Every pip install of a lock file is in hash-checking mode and takes wheels only."""
    installers = [
        SERVICE / "Dockerfile.jinja",
        SERVICE / "Makefile.jinja",
        KIT / "platform.mk",
    ]
    installs = 0
    for path in installers:
        # Continued lines joined first: a greedy first line would end the match at its `\`.
        for line in re.findall(r"pip install[^\n]*", path.read_text().replace("\\\n", " ")):
            if "-r requirements" in line or "-r $(DATABASE_LOCK)" in line:
                installs += 1
                assert "--require-hashes" in line and "--only-binary :all:" in line, (
                    f"{path.name}: {line}"
                )
    assert installs >= len(installers), installs  # each file installs a lock


def test_tool_venv_pins_match_the_template() -> None:
    """tools/service.txt (the venv that runs rendered services) is the service's dev lock."""
    assert read_pins(ROOT / "tools" / "service.txt") == read_pins(SERVICE / "requirements-dev.lock")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("flask==3.1.3\n", "needs --hash"),
        ("flask>=3.1 \\\n    --hash=sha256:" + "a" * 64 + "\n", "not an exact pin"),
        ("-r other.txt\n", "not an exact pin"),
        ("flask==3.1.3 --hash=sha256:" + "a" * 64 + " --no-binary :all:\n", "needs --hash"),
    ],
)
def test_the_reader_refuses_what_pip_would_not_check(
    tmp_path: Path, text: str, problem: str
) -> None:
    path = tmp_path / "requirements.lock"
    path.write_text(text)
    with pytest.raises(ValueError, match=problem):
        read_pins(path)


def test_the_reader_joins_continued_lines(tmp_path: Path) -> None:
    path = tmp_path / "requirements.lock"
    path.write_text(
        f"# header\nFlask==3.1.3 \\\n    --hash=sha256:{'a' * 64} \\\n    --hash=sha256:{'b' * 64}\n"
    )
    assert read_pins(path) == {"flask": Pin("3.1.3", frozenset({"a" * 64, "b" * 64}))}
