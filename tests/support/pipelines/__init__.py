"""Read a rendered repository's CI definitions as ordered make invocations.

One reader per CI system (github.py, bitbucket.py, codepipeline.py), each with
``read(repo: Path, spec: dict) -> list[Step]``: every job or step of every rendered
definition of that system, in the order the system runs them (a topological order of
``needs`` on GitHub). The pipeline rehearsal (tests/test_pipeline_rehearsal.py)
checks the steps against the generated Makefile and the spec's promotion order, and
runs the non-deploy ones for real.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field

# What starts a step.
PULL_REQUEST = "pull_request"
DELIVER = "deliver"  # a merge to pipelines.branch, on the delivering system only
SCHEDULE = "schedule"
TRIGGERS = (PULL_REQUEST, DELIVER, SCHEDULE)


@dataclass(frozen=True)
class Step:
    """One job (GitHub), step (Bitbucket) or action (CodePipeline)."""

    system: str  # github | bitbucket | codepipeline
    source: str  # the file (and job/step/stage) it was read from, for messages
    trigger: str  # one of TRIGGERS
    name: str
    # Each make invocation in order, as argv after `make` (targets and VAR=value).
    make: tuple[tuple[str, ...], ...]
    # The spec environment this step plans, applies, deploys or bakes; None otherwise.
    environment: str | None = None
    # A person must approve before this step runs (GitHub environment protection,
    # Bitbucket trigger: manual, a CodePipeline manual approval action).
    approval: bool = False
    # Shell lines the step runs that are not make invocations (setup only: checkout,
    # credentials, tool installs through make tools); the rehearsal reports them.
    other: tuple[str, ...] = field(default=())

    def targets(self) -> list[str]:
        """Every make target this step names, in order (VAR=value arguments dropped)."""
        return [
            arg for argv in self.make for arg in argv if "=" not in arg and not arg.startswith("-")
        ]


def make_invocations(lines: list[str]) -> tuple[tuple[tuple[str, ...], ...], tuple[str, ...]]:
    """Split shell lines into make argv lists (after `make`) and the other lines."""
    make: list[tuple[str, ...]] = []
    other: list[str] = []
    for raw in lines:
        for line in raw.splitlines():
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            words = shlex.split(line)
            if words and words[0] == "make":
                make.append(tuple(words[1:]))
            else:
                other.append(line)
    return tuple(make), tuple(other)
