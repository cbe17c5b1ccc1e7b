"""What platform.yaml says about this service (service.json, rendered by platformgen).

The spec's values arrive as JSON data, never as code. Edit platform.yaml and
re-render rather than editing service.json by hand.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from typing import Any

API_VERSION = "v1"
"""The version segment of the API's paths; the unversioned paths are an alias of v1."""


@dataclass(frozen=True)
class Field:
    name: str
    type: str  # string | integer | boolean | date
    required: bool
    min_length: int = 0
    max_length: int = 0
    minimum: int = 0
    maximum: int = 0


@dataclass(frozen=True)
class Transition:
    source: str
    target: str
    by: str  # owner | staff


@dataclass(frozen=True)
class Definition:
    app: str
    project: str
    description: str
    port: int
    path_prefix: str
    liveness_path: str
    readiness_path: str
    resource: str
    fields: tuple[Field, ...]
    initial_status: str
    transitions: tuple[Transition, ...]

    @property
    def table(self) -> str:
        return self.resource.replace("-", "_")

    @property
    def api_prefix(self) -> str:
        """Where the API lives: the app's path, then the API version."""
        return f"{self.path_prefix}/{API_VERSION}"

    @property
    def collection_path(self) -> str:
        return f"{self.api_prefix}/{self.resource}"

    @property
    def unversioned_collection_path(self) -> str:
        """The alias without the version, for clients released before it existed."""
        return f"{self.path_prefix}/{self.resource}"

    @property
    def statuses(self) -> tuple[str, ...]:
        seen = [self.initial_status]
        for t in self.transitions:
            for status in (t.source, t.target):
                if status not in seen:
                    seen.append(status)
        return tuple(seen)

    @property
    def status_length(self) -> int:
        return max(len(s) for s in self.statuses)


def _field(data: dict[str, Any]) -> Field:
    return Field(
        name=data["name"],
        type=data["type"],
        required=data["required"],
        min_length=data.get("minLength", 0),
        max_length=data.get("maxLength", 0),
        minimum=data.get("minimum", 0),
        maximum=data.get("maximum", 0),
    )


def load(text: str) -> Definition:
    data = json.loads(text)
    resource = data["resource"]
    return Definition(
        app=data["app"],
        project=data["project"],
        description=data["description"],
        port=data["port"],
        path_prefix=data["pathPrefix"],
        liveness_path=data["health"]["liveness"],
        readiness_path=data["health"]["readiness"],
        resource=resource["name"],
        fields=tuple(_field(f) for f in resource["fields"]),
        initial_status=resource["workflow"]["initial"],
        transitions=tuple(
            Transition(t["from"], t["to"], t["by"]) for t in resource["workflow"]["transitions"]
        ),
    )


DEFINITION = load(resources.files(__package__).joinpath("service.json").read_text("utf-8"))
