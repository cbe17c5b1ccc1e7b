"""Run the real Terraform offline: CLI config, provider mirror and a shared plugin cache.

The machine carries `terraform` and the hashicorp/aws provider as a filesystem mirror
(see /work/shared/local-stack.md). Nothing here reads ~/.terraformrc: the toolchain
writes its own CLI config (mirror only, no registry) and points TF_PLUGIN_CACHE_DIR at
one cache shared by every root, so `init` links the ~700 MB provider instead of copying
it. Used by the tests and by bench/terraform.py.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CACHE = ROOT / "build" / "terraform-plugin-cache"
PROVIDER = "registry.terraform.io/hashicorp/aws"
PROVIDER_VERSION = "5.100.0"
MINIMUM_TERRAFORM = (1, 11)
# Where machine images put a provider mirror; TF_PROVIDER_MIRROR wins.
MIRROR_CANDIDATES = (
    "/opt/tf-plugins",
    "/usr/local/share/terraform/plugins",
    "/usr/share/terraform/plugins",
    "~/.terraform.d/plugins",
)


class ToolchainMissing(RuntimeError):
    """Terraform or the provider mirror is not on this machine; the message says what to do."""


@dataclass(frozen=True)
class Result:
    args: tuple[str, ...]
    cwd: Path
    returncode: int
    stdout: str
    stderr: str
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def describe(self) -> str:
        return (
            f"terraform {' '.join(self.args)} in {self.cwd} exited {self.returncode}\n"
            f"--- stdout ---\n{self.stdout[-6000:]}\n--- stderr ---\n{self.stderr[-6000:]}"
        )


def find_mirror() -> Path:
    candidates = [os.environ.get("TF_PROVIDER_MIRROR", ""), *MIRROR_CANDIDATES]
    for candidate in filter(None, candidates):
        root = Path(candidate).expanduser()
        if (root / PROVIDER / PROVIDER_VERSION).is_dir():
            return root
    raise ToolchainMissing(
        f"no filesystem mirror of {PROVIDER} {PROVIDER_VERSION} found (looked in "
        f"{', '.join(c for c in candidates if c)}): install the provider into a mirror "
        f"(terraform providers mirror DIR on a connected machine) and set TF_PROVIDER_MIRROR=DIR"
    )


def find_terraform() -> Path:
    path = shutil.which("terraform")
    if path is None:
        raise ToolchainMissing(
            "terraform is not on PATH: install Terraform >= 1.11 (the machine image ships "
            "/usr/local/bin/terraform 1.11.4)"
        )
    out = subprocess.run([path, "version"], capture_output=True, text=True, check=False).stdout
    match = re.search(r"Terraform v(\d+)\.(\d+)", out)
    if not match or (int(match[1]), int(match[2])) < MINIMUM_TERRAFORM:
        raise ToolchainMissing(f"{path} is not Terraform >= 1.11: {out.strip()[:80]}")
    return Path(path)


class Terraform:
    """The terraform CLI with an offline CLI config in `config_dir` and a shared plugin cache.

    The cache outlives test runs (build/ is ignored by git), so a warm run links the
    provider without copying it.
    """

    def __init__(self, config_dir: Path, cache_dir: Path = DEFAULT_CACHE) -> None:
        self.binary = find_terraform()
        self.mirror = find_mirror()
        config_dir.mkdir(parents=True, exist_ok=True)
        cache_dir.mkdir(parents=True, exist_ok=True)
        self.cache = cache_dir
        self._lock = cache_dir.with_name(cache_dir.name + ".lock")
        config = config_dir / "terraform.rc"
        config.write_text(
            "provider_installation {\n"
            f'  filesystem_mirror {{\n    path    = "{self.mirror}"\n'
            f'    include = ["{PROVIDER}"]\n  }}\n'
            f'  direct {{\n    exclude = ["{PROVIDER}"]\n  }}\n'
            "}\n"
        )
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("TF_", "AWS_"))},
            "TF_CLI_CONFIG_FILE": str(config),
            "TF_PLUGIN_CACHE_DIR": str(self.cache),
            "TF_IN_AUTOMATION": "1",
            "CHECKPOINT_DISABLE": "1",
        }
        self.platform = _platform(self.binary)

    def run(
        self,
        args: Sequence[str],
        cwd: Path,
        *,
        env: dict[str, str] | None = None,
        timeout: float = 900,
    ) -> Result:
        started = time.monotonic()
        proc = subprocess.run(
            [str(self.binary), *args],
            cwd=cwd,
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        return Result(
            tuple(args), cwd, proc.returncode, proc.stdout, proc.stderr, time.monotonic() - started
        )

    def init(self, root: Path, *extra: str, backend: bool = False) -> Result:
        """`terraform init`, never writing to the shared cache while another process does.

        A root that commits `.terraform.lock.hcl` (every rendered root and module does) must
        init with it unchanged: Terraform checks the cached provider against the lock's
        `h1:` hash, and a rewritten lock file (a missing or different hash) is a failure
        here, as it would be a diff in the generated repository.

        Terraform rewrites a cache entry on every init of a root whose lock file does not
        record the provider's checksum, and two rewrites at once break each other ("failed
        to compute a checksum ... no such file or directory"). So the first init fills the
        cache alone, under the lock, and marks it complete; whether it is complete is
        decided under that same lock, from the platform folder's content. Later inits of a
        root with the lock file only link the cached provider. A scratch root without one
        (tests that write a bare main.tf) gets TF_PLUGIN_CACHE_MAY_BREAK_DEPENDENCY_LOCK_FILE,
        so that it links too instead of rewriting the cache; nothing commits its lock file.
        """
        args = ["init", "-input=false", "-no-color", *([] if backend else ["-backend=false"])]
        lock = root / ".terraform.lock.hcl"
        committed = lock.read_bytes() if lock.is_file() else None
        env = None if committed else {"TF_PLUGIN_CACHE_MAY_BREAK_DEPENDENCY_LOCK_FILE": "true"}
        if "TF_PLUGIN_CACHE_DIR" not in self.env:  # no shared cache (bench/terraform.py's cold run)
            return _lock_kept(self.run([*args, *extra], root, env=env), lock, committed)
        with self._cache_lock():
            if not self._cache_complete():
                # A fill killed midway leaves a partial folder: start it afresh.
                _remove(self._cache_platform)
                self._marker.unlink(missing_ok=True)
                result = self.run([*args, *extra], root, env=env)
                if result.ok and self._cache_matches_mirror():
                    _write_atomically(
                        self._marker, json.dumps(self._manifest(self._mirror_platform))
                    )
                return _lock_kept(result, lock, committed)
        return _lock_kept(self.run([*args, *extra], root, env=env), lock, committed)

    @property
    def _cache_platform(self) -> Path:
        return self.cache / PROVIDER / PROVIDER_VERSION / self.platform

    @property
    def _mirror_platform(self) -> Path:
        return self.mirror / PROVIDER / PROVIDER_VERSION / self.platform

    @property
    def _marker(self) -> Path:
        return (
            self.cache
            / f".complete-{PROVIDER.replace('/', '_')}-{PROVIDER_VERSION}-{self.platform}"
        )

    @contextmanager
    def _cache_lock(self) -> Iterator[None]:
        with self._lock.open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    @staticmethod
    def _manifest(folder: Path) -> dict[str, int]:
        """File name -> size of a provider platform folder (a cache entry may be a symlink)."""
        if not folder.is_dir():
            return {}
        return {p.name: p.stat().st_size for p in sorted(folder.iterdir()) if p.is_file()}

    def _cache_matches_mirror(self) -> bool:
        mirrored = self._manifest(self._mirror_platform)
        return bool(mirrored) and self._manifest(self._cache_platform) == mirrored

    def _cache_complete(self) -> bool:
        """Marked complete by a successful fill, and the folder still holds what it marked."""
        try:
            marked = json.loads(self._marker.read_text())
        except (OSError, ValueError):
            return False
        return bool(marked) and self._manifest(self._cache_platform) == marked

    def init_and_validate(self, root: Path) -> Result:
        """Offline init (no backend) and validate; a module needing provider aliases gets them."""
        aliases = re.findall(r"aws\.([a-z0-9_]+)", _configuration_aliases(root))
        shim = root / "zz_validate_providers.tf"
        if aliases:
            shim.write_text(
                "".join(f'provider "aws" {{\n  alias = "{a}"\n}}\n' for a in sorted(set(aliases)))
            )
        try:
            result = self.init(root)
            if not result.ok:
                return result
            return self.run(["validate", "-no-color"], root)
        finally:
            shim.unlink(missing_ok=True)

    def each(self, roots: Iterable[Path], fn_name: str, workers: int = 2) -> list[Result]:
        """Run init, init_and_validate or test on many roots, `workers` at a time."""
        fn = getattr(self, fn_name)
        with ThreadPoolExecutor(max_workers=workers) as pool:
            return list(pool.map(fn, roots))

    def test(self, module: Path) -> Result:
        result = self.init(module)
        if not result.ok:
            return result
        return self.run(["test", "-no-color"], module)


def _platform(binary: Path) -> str:
    """The os_arch folder name Terraform installs providers under, e.g. linux_amd64."""
    out = subprocess.run(
        [str(binary), "version", "-json"], capture_output=True, text=True, check=False
    ).stdout
    try:
        return str(json.loads(out)["platform"])
    except (ValueError, KeyError) as exc:
        raise ToolchainMissing(
            f"{binary} version -json did not name its platform: {out[:200]}"
        ) from exc


def _lock_kept(result: Result, lock: Path, committed: bytes | None) -> Result:
    """`result`, or a failure when init rewrote (or dropped) a committed lock file."""
    if committed is None or not result.ok:
        return result
    now = lock.read_bytes() if lock.is_file() else b""
    if now == committed:
        return result
    return Result(
        result.args,
        result.cwd,
        1,
        result.stdout,
        f"{result.stderr}\ninit rewrote the committed {lock.name} (a provider hash it lacks or "
        f"that differs from the installed package):\n--- committed ---\n"
        f"{committed.decode()}\n--- now ---\n{now.decode()}",
        result.seconds,
    )


def _remove(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.is_dir():
        shutil.rmtree(path)


def _write_atomically(path: Path, text: str) -> None:
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    partial.write_text(text)
    os.replace(partial, path)


def _configuration_aliases(root: Path) -> str:
    text = "".join(p.read_text() for p in sorted(root.glob("*.tf")))
    match = re.search(r"configuration_aliases\s*=\s*\[([^\]]*)\]", text)
    return match[1] if match else ""


def roots_of(infra: Path) -> list[Path]:
    """Every root of a rendered infra/: the bootstrap, the backup account's (when the spec
    names one), the artifacts account's and one per environment."""
    backup = [infra / "backup"] if (infra / "backup").is_dir() else []
    return [
        infra / "bootstrap",
        *backup,
        infra / "artifacts",
        *sorted(p for p in (infra / "envs").iterdir() if p.is_dir()),
    ]


def modules_of(infra: Path) -> list[Path]:
    return sorted(p for p in (infra / "modules").iterdir() if p.is_dir() and p.name[0] != ".")
