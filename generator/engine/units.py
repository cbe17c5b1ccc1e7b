"""Render units: which template area renders where, with which answers.

The template set describes its own areas in templates/areas.yml, so a template
version carries its own unit layout and adding an area needs no engine change.
The engine turns the resolved spec into units: one per area for project-wide
areas, one per selected app or environment otherwise. A unit's answers are
copier answers (`area`, `key`, `spec`), so
`copier update --answers-file .copier-answers.<area>.yml <dest>` also works on
one unit by hand.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Literal

import yaml
from jinja2 import TemplateError
from jinja2.sandbox import SandboxedEnvironment

from .errors import EngineError

Spec = dict[str, Any]
Scope = Literal["project", "app", "environment"]
AREAS_FILE = "templates/areas.yml"
_NAME = re.compile(r"^[a-z][a-z0-9-]{0,30}$")
_EXPRESSIONS = SandboxedEnvironment()


@dataclass(frozen=True)
class Area:
    """A template area: templates/<name>/, rendered per project, app or environment."""

    name: str
    scope: Scope
    dest: str
    when: str = ""

    def selects(self, spec: Spec, key: str, item: Spec) -> bool:
        if not self.when:
            return True
        context: dict[str, Any] = {"spec": spec, "key": key}
        if self.scope == "app":
            context["app"] = item
        elif self.scope == "environment":
            context["env"] = item
        try:
            return bool(_EXPRESSIONS.compile_expression(self.when)(**context))
        except TemplateError as exc:
            raise EngineError(
                f"area {self.name}: its `when` failed: {exc}", "fix templates/areas.yml"
            ) from None


@dataclass(frozen=True)
class Unit:
    area: str
    key: str
    dest: PurePosixPath
    answers: Spec = field(compare=False)

    @property
    def id(self) -> str:
        return f"{self.area}:{self.key}" if self.key else self.area

    @property
    def answers_file(self) -> PurePosixPath:
        """Relative to the repository root."""
        return self.dest / f".copier-answers.{self.area}.yml"


def load_areas(template_root: Path) -> tuple[Area, ...]:
    """Read and check templates/areas.yml of a template set."""
    path = template_root / AREAS_FILE
    try:
        entries = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise EngineError(f"cannot read {AREAS_FILE} of the template set: {exc}") from None
    if not isinstance(entries, list):
        raise EngineError(f"{AREAS_FILE} must be a list of areas")
    areas: list[Area] = []
    for entry in entries:
        if not isinstance(entry, dict) or set(entry) - {"name", "scope", "dest", "when"}:
            raise EngineError(f"{AREAS_FILE}: bad entry {entry!r}")
        name, scope, dest = entry.get("name"), entry.get("scope"), entry.get("dest")
        if not isinstance(name, str) or not _NAME.match(name):
            raise EngineError(f"{AREAS_FILE}: bad area name {name!r}")
        if scope not in ("project", "app", "environment"):
            raise EngineError(f"{AREAS_FILE}: area {name} has bad scope {scope!r}")
        if (
            not isinstance(dest, str)
            or PurePosixPath(dest).is_absolute()
            or ".." in PurePosixPath(dest).parts
        ):
            raise EngineError(f"{AREAS_FILE}: area {name} has a destination outside the repository")
        if not (template_root / "templates" / name).is_dir():
            raise EngineError(f"{AREAS_FILE}: area {name} has no folder templates/{name}/")
        areas.append(Area(name=name, scope=scope, dest=dest, when=str(entry.get("when", ""))))
    return tuple(areas)


def _app_slice(spec: Spec, app: Spec) -> Spec:
    sliced = copy.deepcopy(spec)
    sliced["apps"] = [copy.deepcopy(app)]
    return sliced


def _environment_slice(spec: Spec, name: str) -> Spec:
    sliced = copy.deepcopy(spec)
    sliced["environments"] = {name: copy.deepcopy(spec["environments"][name])}
    for app in sliced["apps"]:
        app["environments"] = {name: app["environments"][name]}
    return sliced


# Spec fields for the engine only: templates never see them, so setting or removing
# one changes no rendered file (`renamedFrom` says where a renamed app's files were).
ENGINE_ONLY_APP_FIELDS = ("renamedFrom",)


def _for_templates(spec: Spec) -> Spec:
    if not any(f in app for app in spec["apps"] for f in ENGINE_ONLY_APP_FIELDS):
        return spec
    spec = copy.deepcopy(spec)
    for app in spec["apps"]:
        for name in ENGINE_ONLY_APP_FIELDS:
            app.pop(name, None)
    return spec


def plan_units(spec: Spec, areas: tuple[Area, ...]) -> list[Unit]:
    """All units for a resolved spec, in a stable order."""
    spec = _for_templates(spec)
    units: list[Unit] = []
    for area in areas:
        if area.scope == "project":
            if area.selects(spec, "", spec):
                units.append(_unit(area, "", spec))
        elif area.scope == "app":
            for app in sorted(spec["apps"], key=lambda a: a["name"]):
                if area.selects(spec, app["name"], app):
                    units.append(_unit(area, app["name"], _app_slice(spec, app)))
        else:
            for name in sorted(spec["environments"]):
                if area.selects(spec, name, spec["environments"][name]):
                    units.append(_unit(area, name, _environment_slice(spec, name)))
    return units


def _unit(area: Area, key: str, sliced: Spec) -> Unit:
    dest = PurePosixPath(area.dest.format(key=key))
    if dest.is_absolute() or ".." in dest.parts:
        raise EngineError(f"area {area.name} puts unit {key!r} outside the repository: {dest}")
    return Unit(
        area=area.name,
        key=key,
        dest=dest,
        answers=canonical({"area": area.name, "key": key, "spec": sliced}),
    )


def canonical(value: Any) -> Any:
    """Mappings with sorted keys, all the way down.

    Copier stores answers with sorted keys, so plain `copier update` renders from
    sorted mappings. Rendering from the same order keeps both routes byte-identical;
    templates that need an order use explicit lists (for example spec.promotion).
    """
    if isinstance(value, dict):
        return {k: canonical(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [canonical(v) for v in value]
    return value
