"""Every combination of kind, hosting and exposure either renders something that serves
the app, or is refused on the line that makes it unservable."""

from __future__ import annotations

import itertools
from pathlib import Path

from validators.served import unserved_apps

from generator.engine.operations import new
from generator.spec import load_spec, load_spec_text

HEAD = (
    "apiVersion: platformgen/v1\n"
    "project: {name: combos, organisation: org, domain: combos.example.com, region: eu-west-1}\n"
    "environments:\n"
    "  dev: {account: '123456789012', vpcCidr: 10.0.0.0/16}\n"
    "  prod: {account: '123456789013', vpcCidr: 10.1.0.0/16}\n"
    "apps:\n"
)
COMBOS = list(itertools.product(("api", "web", "worker"), ("static", "container"), (True, False)))


def _app(kind: str, hosting: str, public: bool) -> tuple[str, str]:
    name = f"{kind}-{hosting[0]}-{'pub' if public else 'priv'}"
    path = f", path: /{name}" if public else ""
    return (
        name,
        f"  - {{name: {name}, kind: {kind}, hosting: {hosting}, public: {str(public).lower()}{path}}}\n",
    )


def test_each_combination_is_served_or_refused(tmp_path: Path) -> None:
    valid = []
    for kind, hosting, public in COMBOS:
        name, line = _app(kind, hosting, public)
        result = load_spec_text(HEAD + line)
        if result.ok:
            valid.append((kind, hosting, public))
        else:
            refused = [d for d in result.errors if d.line == HEAD.count("\n") + 1]
            assert refused, f"{name} is refused away from its line: {result.errors}"
    assert sorted(valid) == sorted(
        [
            ("api", "container", True),
            ("api", "container", False),
            ("web", "container", True),
            ("web", "container", False),
            ("web", "static", True),
            ("worker", "container", False),
        ]
    )
    spec = tmp_path / "platform.yaml"
    spec.write_text(HEAD + "".join(_app(*combo)[1] for combo in valid))
    resolved = load_spec(spec).resolved
    assert resolved is not None
    new(spec, tmp_path / "repo")
    assert unserved_apps(tmp_path / "repo", resolved) == []
