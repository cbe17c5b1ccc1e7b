"""Rendering benchmark: platformgen against the plain-jinja2 floor, side by side in one run.

Measures, warm (after one untimed render):
- the reference spec and a generated large spec (50 apps x 3 environments), rendered by
  the engine (copier per unit, into an empty folder);
- the same files rendered with plain jinja2 (one Environment, no copier): the floor;
- linearity: the engine on 10, 25 and 50 apps;
- `update` of the reference with no template change, against a fresh render.

Prints JSON and writes bench/results/render.json. Targets are reported, never asserted:
timings on a shared 2-core machine are noisy, so compare the ratios.
"""

from __future__ import annotations

import copy
import json
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import jinja2
import yaml
from copier._jinja_ext import YieldExtension, get_yield_context

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from generator.engine.operations import new, sync  # noqa: E402
from generator.engine.render import render_all  # noqa: E402
from generator.engine.templates import TemplateSet, bundled  # noqa: E402
from generator.engine.units import Unit, load_areas, plan_units  # noqa: E402
from generator.spec import load_spec  # noqa: E402

REFERENCE = ROOT / "examples" / "getprospa" / "platform.yaml"
RESULTS = ROOT / "bench" / "results" / "render.json"
REPEAT = 5


def large_spec(apps: int) -> dict[str, Any]:
    """The reference with `apps` apps: a third of them public APIs, the rest workers and APIs."""
    spec = yaml.safe_load(REFERENCE.read_text())
    template = next(a for a in spec["apps"] if a["name"] == "api")
    spec["apps"] = [a for a in spec["apps"] if a["kind"] == "web"]
    for i in range(apps - len(spec["apps"])):
        app = copy.deepcopy(template)
        app["name"] = f"svc{i:03d}"
        app["path"] = f"/svc{i:03d}"
        if i % 3 == 2:
            app = {"name": f"job{i:03d}", "kind": "worker"}
        spec["apps"].append(app)
    return spec


def timed(fn: Any, repeat: int = REPEAT) -> float:
    """Median wall time of `fn()` in seconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def write_files(files: dict[str, tuple[bytes, bool]], out: Path) -> None:
    for rel, (content, executable) in files.items():
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        path.chmod(0o755 if executable else 0o644)


class Floor:
    """Plain jinja2: one Environment per template set, every unit's files rendered and written."""

    def __init__(self, templates: TemplateSet) -> None:
        self.templates = templates
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(templates.root)),
            extensions=["jinja2_ansible_filters.AnsibleCoreFiltersExtension", YieldExtension],
            keep_trailing_newline=True,
            undefined=jinja2.StrictUndefined,
            autoescape=False,
        )

    def render(self, units: list[Unit]) -> dict[str, tuple[bytes, bool]]:
        out: dict[str, tuple[bytes, bool]] = {}
        for unit in units:
            area_root = self.templates.root / "templates" / unit.area
            answers_file = f".copier-answers.{unit.area}.yml"
            context = {
                **unit.answers,
                "platformgen": self.templates.meta,
                "_copier_answers": {
                    **unit.answers,
                    "_commit": self.templates.ref,
                    "_src_path": self.templates.src_path,
                },
                "_copier_conf": {"answers_file": answers_file},
            }
            for path in sorted(area_root.rglob("*")):
                if not path.is_file():
                    continue
                rel = path.relative_to(area_root).as_posix()
                executable = bool(path.stat().st_mode & 0o100)
                for rendered_rel, file_context in self.paths(rel, context):
                    if "" in rendered_rel.removesuffix(".jinja").split("/"):
                        # A name that renders empty (also `{% if %}x{% endif %}.jinja`, whose
                        # name is empty once the suffix goes): copier skips the file.
                        continue
                    if rendered_rel.endswith(".jinja"):
                        source = path.relative_to(self.templates.root).as_posix()
                        template = self.env.get_template(source)
                        content = template.render(file_context).encode()
                        rendered_rel = rendered_rel.removesuffix(".jinja")
                    else:
                        content = path.read_bytes()
                    out[(unit.dest / rendered_rel).as_posix()] = (content, executable)
        return out

    def paths(self, rel: str, context: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
        """The paths `rel` renders to: one, or one per item of a `{% yield %}` in its name."""
        rendered = self.env.from_string(rel).render(context)
        ctx = get_yield_context(self.env)
        if not ctx.yield_name:
            return [(rendered, context)]
        name, items = ctx.yield_name, list(ctx.yield_iterable or ())
        expanded = []
        for item in items:
            item_context = {**context, name: item}
            expanded.append((self.env.from_string(rel).render(item_context), item_context))
        return expanded


def spec_units(spec_path: Path, templates: TemplateSet) -> tuple[dict[str, Any], list[Unit]]:
    """The resolved spec and its render units."""
    resolved = load_spec(spec_path).resolved
    assert resolved is not None, f"{spec_path} is invalid"
    return resolved, plan_units(resolved, load_areas(templates.root))


def engine_files(templates: TemplateSet, units: list[Unit]) -> dict[str, tuple[bytes, bool]]:
    """Every file the engine renders for `units`, in the floor's shape: path -> (bytes, +x)."""
    rendered = render_all(templates, units)
    return {p: (f.content, f.executable) for files in rendered.values() for p, f in files.items()}


def measure_spec(label: str, spec_path: Path, templates: TemplateSet) -> dict[str, Any]:
    resolved, units = spec_units(spec_path, templates)
    floor = Floor(templates)

    ours = engine_files(templates, units)  # warm
    theirs = floor.render(units)
    assert ours == theirs, f"{label}: the floor does not render the same files as the engine"

    def engine() -> None:
        with tempfile.TemporaryDirectory() as tmp:
            write_files(engine_files(templates, units), Path(tmp))

    def plain() -> None:
        with tempfile.TemporaryDirectory() as tmp:
            write_files(Floor(templates).render(units), Path(tmp))

    t_engine, t_floor = timed(engine), timed(plain)
    return {
        "apps": len(resolved["apps"]),
        "environments": len(resolved["environments"]),
        "units": len(units),
        "files": len(ours),
        "engine_s": round(t_engine, 4),
        "jinja2_floor_s": round(t_floor, 4),
        "ratio_to_floor": round(t_engine / t_floor, 2),
    }


def measure_new_and_update(spec_path: Path) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "repo"
        new(spec_path, out)  # warm

        def fresh() -> None:
            with tempfile.TemporaryDirectory() as inner:
                new(spec_path, Path(inner) / "repo")

        def update() -> None:
            sync(out, update=True)

        t_new, t_update = timed(fresh), timed(update)
        status = subprocess.run(
            ["git", "status", "--porcelain"], cwd=out, capture_output=True, text=True
        )
        assert status.stdout == "", "an update with no template change changed files"
    return {
        "new_s": round(t_new, 4),
        "update_no_change_s": round(t_update, 4),
        "update_to_new_ratio": round(t_update / t_new, 2),
    }


def main() -> int:
    results: dict[str, Any] = {"machine": {"python": sys.version.split()[0]}}
    with ExitStack() as stack, tempfile.TemporaryDirectory() as tmp:
        templates = bundled(stack)
        results["reference"] = measure_spec("reference", REFERENCE, templates)
        sizes = {}
        for apps in (10, 25, 50):
            path = Path(tmp) / f"large-{apps}.yaml"
            path.write_text(yaml.safe_dump(large_spec(apps), sort_keys=False))
            sizes[apps] = measure_spec(f"{apps} apps", path, templates)
        results["large_50_apps"] = sizes[50]
        t = {apps: m["engine_s"] for apps, m in sizes.items()}
        # Marginal cost per added app, on the first and on the second half of the range:
        # super-linear growth makes the second clearly larger than the first.
        first, second = (t[25] - t[10]) / 15, (t[50] - t[25]) / 25
        results["linearity"] = {
            "engine_s_by_apps": {str(a): v for a, v in t.items()},
            "marginal_s_per_app_10_to_25": round(first, 5),
            "marginal_s_per_app_25_to_50": round(second, 5),
            "marginal_ratio": round(second / first, 2) if first > 0 else None,
        }
        results["update"] = measure_new_and_update(REFERENCE)
    ref, large = results["reference"], results["large_50_apps"]
    results["targets"] = {
        "reference_under_2s": ref["engine_s"] < 2.0,
        "reference_within_3x_floor": ref["ratio_to_floor"] <= 3.0,
        "large_within_3x_floor": large["ratio_to_floor"] <= 3.0,
        "linear_in_apps (marginal cost 25-50 within 1.5x of 10-25)": (
            results["linearity"]["marginal_ratio"] is not None
            and results["linearity"]["marginal_ratio"] <= 1.5
        ),
        "update_no_change_within_2x_new": results["update"]["update_to_new_ratio"] <= 2.0,
    }
    text = json.dumps(results, indent=2)
    print(text)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
