"""Render units with copier's Python API into a staging folder, and read the result.

Each unit is a real `copier copy` of templates/<area>/ with the unit's answers.
Two things make a many-unit render fast without changing a byte of output:

- one copier `Template` and one Jinja environment per template set, shared by
  every unit, so each template file is compiled once per run instead of once
  per unit (copier builds a fresh environment per `Worker`);
- no per-file `git config` probe: copier runs it to sync executable bits into a
  destination's git index, and a staging folder has no index.

`test_engine_output_equals_plain_copier_copy` in tests/test_engine_render.py proves the
output is byte-identical to plain `copier copy`.
"""

from __future__ import annotations

import os
import stat
import tempfile
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any, ClassVar

from copier._jinja_ext import get_yield_context
from copier._main import Worker
from copier._template import Template
from copier.errors import CopierError
from jinja2 import TemplateError
from jinja2.sandbox import SandboxedEnvironment

from .errors import EngineError
from .templates import TemplateSet
from .units import Unit


@dataclass(frozen=True)
class FileData:
    content: bytes
    executable: bool = False


Files = dict[str, FileData]
"""Repository-relative POSIX path -> file."""


class _Shared:
    def __init__(self, root: Path) -> None:
        self.template = Template(url=str(root))
        self.env: SandboxedEnvironment | None = None


class _StagingWorker(Worker):  # type: ignore[misc]
    _shared: ClassVar[dict[str, _Shared]] = {}

    def _share(self) -> _Shared:
        return self._shared[str(self.src_path)]

    @cached_property
    def template(self) -> Template:
        return self._share().template

    @cached_property
    def jinja_env(self) -> SandboxedEnvironment:
        shared = self._share()
        if shared.env is None:
            env = Worker.jinja_env.func(self)  # type: ignore[attr-defined]
            # Path parts and the answers-file name are rendered with from_string for
            # every file; cache their compiled form. Templates are immutable in a run.
            compile_once = lru_cache(maxsize=8192)(env.from_string)

            def from_string(source: str, *args: Any, **kwargs: Any) -> Any:
                # copier's `yield` tag (one file per item, e.g. values-{% yield env ...%})
                # resets its state when a path is compiled; a cached compile skips that
                # step, so reset it here as copier's preprocess hook would.
                state = get_yield_context(env)
                state.yield_name = state.yield_iterable = None
                return compile_once(source, *args, **kwargs)

            env.from_string = from_string  # type: ignore[method-assign]
            shared.env = env
        return shared.env

    def _sync_git_index_executable_bit(self, *args: Any, **kwargs: Any) -> None:
        """A staging folder is never a git checkout: nothing to sync."""


class Renderer:
    """Renders units of one template set. Use as a context manager."""

    def __init__(self, templates: TemplateSet) -> None:
        self.templates = templates
        self._key = str(templates.root)

    def __enter__(self) -> Renderer:
        _StagingWorker._shared[self._key] = _Shared(self.templates.root)
        return self

    def __exit__(self, *exc: object) -> None:
        _StagingWorker._shared.pop(self._key, None)

    def render(self, unit: Unit, src_path: str | None = None) -> Files:
        """Render one unit and return its files, keyed by repository-relative path.

        `src_path` is the stable source its answers file records (default: the
        template set's).
        """
        with tempfile.TemporaryDirectory(prefix="platformgen-unit-") as tmp:
            dst = Path(tmp) / "out"
            meta = {**self.templates.meta, **({"src_path": src_path} if src_path else {})}
            data = {**unit.answers, "platformgen": meta}
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    worker = _StagingWorker(
                        src_path=self._key,
                        dst_path=dst,
                        data=data,
                        defaults=True,
                        overwrite=True,
                        quiet=True,
                        unsafe=False,
                        cleanup_on_error=False,
                    )
                    worker.run_copy()
            except (CopierError, TemplateError, ValueError, OSError) as exc:
                raise EngineError(
                    f"rendering unit {unit.id} with template {self.templates.ref} failed: "
                    f"{type(exc).__name__}: {exc}",
                    "this is a template bug; nothing was written",
                ) from exc
            return _read_tree(dst, unit)


def _read_tree(root: Path, unit: Unit) -> Files:
    files: Files = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            path = Path(dirpath) / name
            rel = path.relative_to(root).as_posix()
            if path.is_symlink():
                raise EngineError(f"unit {unit.id} rendered a symlink ({rel}); templates may not")
            mode = path.stat().st_mode
            repo_rel = (unit.dest / rel).as_posix()
            files[repo_rel] = FileData(path.read_bytes(), bool(mode & stat.S_IXUSR))
    return files


def render_all(
    templates: TemplateSet, units: list[Unit], src_paths: Mapping[str, str] | None = None
) -> dict[str, Files]:
    """Render every unit; fail if two units claim the same file.

    `src_paths` maps unit ids to the `_src_path` their answers file keeps (a unit
    not in it records the template set's).
    """
    out: dict[str, Files] = {}
    owner: dict[str, str] = {}
    with Renderer(templates) as renderer:
        for unit in units:
            files = renderer.render(unit, (src_paths or {}).get(unit.id))
            for path in files:
                if path in owner:
                    raise EngineError(
                        f"units {owner[path]} and {unit.id} both generate {path}",
                        "this is a template bug: each file must belong to one unit",
                    )
                owner[path] = unit.id
            out[unit.id] = files
    return out
