"""Valid bodies and workflow steps for whatever resource platform.yaml defines."""

from __future__ import annotations

from typing import Any

from api.definition import DEFINITION, Field, Transition

COLLECTION = DEFINITION.collection_path


def value(field: Field) -> Any:
    if field.type == "string":
        return "x" * max(field.min_length, 1)
    if field.type == "integer":
        return max(field.minimum, min(field.maximum, 1))
    if field.type == "boolean":
        return True
    return "2020-02-29"


def body(**overrides: Any) -> dict[str, Any]:
    """A create body with every required field (and overrides)."""
    return {**{f.name: value(f) for f in DEFINITION.fields if f.required}, **overrides}


def first_field() -> Field:
    return DEFINITION.fields[0]


def step(by: str, source: str | None = None) -> Transition | None:
    """A transition made by `by`, from `source` when given."""
    return next(
        (t for t in DEFINITION.transitions if t.by == by and source in (None, t.source)), None
    )


def path_to(status: str) -> list[Transition]:
    """Transitions from the initial status to `status` (breadth-first)."""
    paths: dict[str, list[Transition]] = {DEFINITION.initial_status: []}
    queue = [DEFINITION.initial_status]
    while queue:
        current = queue.pop(0)
        for t in DEFINITION.transitions:
            if t.source == current and t.target not in paths:
                paths[t.target] = [*paths[current], t]
                queue.append(t.target)
    return paths[status]
