"""Validators of the `web` area: a static web app's build, publish and deploy targets."""

from __future__ import annotations

import subprocess

from . import RenderedRepo, nonempty, require, validator

RELEASE = "0123456789abcdef0123456789abcdef01234567"


def _static_apps(repo: RenderedRepo) -> list[str]:
    return [a["name"] for a in repo.spec["apps"] if a["hosting"] == "static"]


@validator("web")
def static_apps_build_publish_and_deploy_through_make(repo: RenderedRepo) -> None:
    make = require("make")
    env = repo.spec["promotion"][-1]
    listed = subprocess.run(
        [make, "help"], cwd=repo.root, capture_output=True, text=True, check=True
    ).stdout
    dry = subprocess.run(
        [make, "-n", "deploy", f"ENV={env}", f"RELEASE={RELEASE}", "build", "publish"],
        cwd=repo.root, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    for app in nonempty(_static_apps(repo), "static web apps"):
        for verb in ("build", "publish", "deploy"):
            assert f"web-{app}-{verb}" in listed, f"make help lacks web-{app}-{verb}"
        assert f"bash delivery/publish-static.sh {app} web/{app}/dist" in dry
        assert f"bash delivery/deploy-static.sh {app}" in dry
        # A deploy without a release, or with a release that is not a commit, stops before
        # any AWS call, saying what to set (run for real: no aws on PATH is needed).
        for args, expected in (
            ([], "set RELEASE=<git sha>"),
            (["RELEASE=main"], "is not a full git commit SHA"),
        ):
            proc = subprocess.run(
                [make, f"web-{app}-deploy", f"ENV={env}", *args],
                cwd=repo.root, capture_output=True, text=True,
            )  # fmt: skip
            assert proc.returncode != 0 and expected in proc.stderr, (args, proc.stderr)
        # A rollback of the images alone (make deploy IMAGE_DIGEST=<previous>) leaves the
        # static files as they are, and says so.
        kept = subprocess.run(
            [make, f"web-{app}-deploy", f"ENV={env}", "IMAGE_DIGEST=sha256:" + "a" * 64],
            cwd=repo.root, capture_output=True, text=True,
        )  # fmt: skip
        assert kept.returncode == 0 and "its current files stay" in kept.stderr, kept.stderr
