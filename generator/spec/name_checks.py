"""Every name a spec produces (naming.py) must be valid and unique for its service.

One finding per spec field at most: the field to change, on its line, with the name that
fails, why, and how much shorter the field must be. A field feeding several bad names gets
the worst one, and a count of the others.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from .context import Context, check
from .diagnostics import Diagnostic
from .naming import GeneratedName, collisions, generated_names
from .yamlpos import SpecPath


@dataclass(frozen=True)
class _Field:
    path: SpecPath
    key: bool
    label: str
    """How a reader finds it, e.g. "app name 'site' (line 26)"."""
    hint: str = ""
    """Another way out, e.g. setting a default explicitly."""


def _field(ctx: Context, name: GeneratedName, which: str) -> _Field:
    raw_envs = ctx.raw["environments"]
    if which == "app":
        assert name.app is not None
        path: SpecPath = ("apps", ctx.raw_app_index(name.app), "name")
        return _Field(path, False, f"app name '{name.app}' (line {ctx.line(path)})")
    if which == "secret":
        assert name.app is not None
        var = name.variable("var")
        path = ("apps", ctx.raw_app_index(name.app), "secrets", var, "secret")
        secret = name.variable("secret")
        return _Field(path, False, f"secret name '{secret}' (line {ctx.line(path)})")
    if which == "environment" and name.env is not None:
        path = ("environments", name.env)
        return _Field(
            path, True, f"environment name '{name.env}' (line {ctx.line(path, key=True)})"
        )
    if which == "domain" and name.env is not None:
        if "domain" in raw_envs[name.env]:
            path = ("environments", name.env, "domain")
            domain = ctx.resolved["environments"][name.env]["domain"]
            return _Field(
                path, False, f"the domain of {name.env} '{domain}' (line {ctx.line(path)})"
            )
        path = ("project", "domain")
        return _Field(
            path,
            False,
            f"project.domain (line {ctx.line(path)})",
            f"or set environments.{name.env}.domain to a shorter name",
        )
    if which == "database.name":
        path = ("database", "name")
        return _Field(path, False, f"database.name (line {ctx.line(path)})")
    if which == "project.organisation":
        path = ("project", "organisation")
        return _Field(path, False, f"project.organisation (line {ctx.line(path)})")
    path = ("project", "name")
    return _Field(path, False, f"project.name (line {ctx.line(path)})")


def _fields(ctx: Context, name: GeneratedName) -> list[_Field]:
    return [_field(ctx, name, which) for which in name.rule.fields()]


def _where(name: GeneratedName) -> str:
    parts = []
    if name.app:
        parts.append(f"app '{name.app}'")
    if name.env:
        parts.append(f"environment '{name.env}'")
    return f" ({', '.join(parts)})" if parts else ""


@dataclass
class _Problem:
    severity_rank: int
    """0: a collision, 1: an invalid name, 2: a name too long; the lowest is reported."""
    code: str
    message: str
    fix: str
    weight: int
    """Within a rank, the largest is reported (characters over the limit)."""


def _length_problem(ctx: Context, name: GeneratedName, fields: list[_Field]) -> _Problem:
    kind = name.rule.kind
    over = kind.overflow(name.value)
    labels = ", ".join(f.label for f in fields[:-1])
    listed = f"{labels} or {fields[-1].label}" if len(fields) > 1 else fields[0].label
    plural = "s" if over > 1 else ""
    hints = "".join(f"; {f.hint}" for f in fields if f.hint)
    limit = f"{kind.label}s allow {kind.max_length}"
    if kind.appended:
        limit += f", and Terraform adds {kind.appended}"
    return _Problem(
        2,
        "semantic.name-too-long",
        f"{name.rule.what}{_where(name)} would be named '{name.value}', "
        f"{len(name.value)} characters; {limit}",
        f"shorten {listed} by {over} character{plural} in total{hints}",
        over,
    )


def _invalid_problem(name: GeneratedName, reasons: list[str], fields: list[_Field]) -> _Problem:
    listed = " or ".join(f.label for f in fields)
    return _Problem(
        1,
        "semantic.name-invalid",
        f"{name.rule.what}{_where(name)} would be named '{name.value}', which {reasons[0]}",
        f"change {listed} (rules: {name.rule.kind.source})",
        0,
    )


def _collision_problem(ctx: Context, mine: GeneratedName, other: GeneratedName) -> _Problem:
    kind = mine.rule.kind
    if mine.rule.id == other.rule.id and mine.env != other.env:
        account = ctx.resolved["environments"][mine.env or ""]["account"] if mine.env else ""
        return _Problem(
            0,
            "semantic.name-collision",
            f"environments '{other.env}' and '{mine.env}' share AWS account {account}, so both "
            f"would create {mine.rule.what} '{mine.value}' ({kind.label}s are unique per "
            f"{'account' if kind.namespace == 'account' else 'account and region'})",
            "give each environment its own AWS account (the platform's design: one account "
            "per environment)",
            0,
        )
    return _Problem(
        0,
        "semantic.name-collision",
        f"{mine.rule.what}{_where(mine)} would be named '{mine.value}', which is already "
        f"{other.rule.what}{_where(other)}: one {kind.label} cannot be both",
        "choose another name" + (f" for app '{mine.app}'" if mine.app else ""),
        0,
    )


def _duplicated_apps(ctx: Context) -> set[str]:
    seen: set[str] = set()
    twice: set[str] = set()
    for app in ctx.raw["apps"]:
        (twice if app["name"] in seen else seen).add(app["name"])
    return twice


@check
def generated_names_are_valid(ctx: Context) -> Iterator[Diagnostic]:
    twice = _duplicated_apps(ctx)  # reported by unique_app_names
    names = [n for n in generated_names(ctx.resolved) if n.app not in twice]
    found: dict[tuple[SpecPath, bool], list[_Problem]] = {}

    def add(target: _Field, problem: _Problem) -> None:
        found.setdefault((target.path, target.key), []).append(problem)

    for name in names:
        fields = _fields(ctx, name)
        if not fields:
            continue  # a constant: tests/validators/names.py keeps those valid
        if name.rule.kind.overflow(name.value) > 0:
            add(fields[0], _length_problem(ctx, name, fields))
        reasons = name.rule.kind.problems(name.value)
        if reasons:
            # A forbidden prefix comes from the field that starts the name.
            leading = name.rule.leading_field()
            starts = all(r.startswith("starts with") for r in reasons) and leading
            target = _field(ctx, name, leading) if starts and leading else fields[0]
            add(target, _invalid_problem(name, reasons, [target] if starts else fields))
    for first, second in collisions(names):
        # Blame the name a spec field chose freely: an app's, else the later environment's.
        mine, other = (second, first) if second.app or not first.app else (first, second)
        if mine.rule.id == other.rule.id and mine.env != other.env:
            target = _Field(("environments", mine.env or "", "account"), False, "")
        else:
            fields = _fields(ctx, mine)
            if not fields:
                mine, other = other, mine
                fields = _fields(ctx, mine)
            if not fields:
                continue
            target = fields[0]
        add(target, _collision_problem(ctx, mine, other))

    for (path, key), problems in found.items():
        rank = min(p.severity_rank for p in problems)
        candidates = [p for p in problems if p.severity_rank == rank]
        chosen = max(candidates, key=lambda p: p.weight)
        others = len({(p.code, p.message) for p in problems}) - 1
        more = f" ({others} more name problem{'s' if others > 1 else ''} from this field)"
        yield ctx.finding(
            "error",
            chosen.code,
            path,
            chosen.message + (more if others else ""),
            chosen.fix,
            key=key,
        )
