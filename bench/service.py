"""Service benchmark: the generated getprospa API, side by side in one run.

Setups, each over verified TLS to the same MariaDB, with the same data, token and pool:
1. the API under gunicorn as generated (gthread, workers and threads from the spec);
2. the same app under Flask's development server, as the seed ran its api.py;
3. a raw driver loop: the same query through the same SQLAlchemy pool settings, no HTTP
   (as many processes and threads as gunicorn has workers and threads).

CPU per request: the service and a ~33-line Flask + SQLAlchemy Core floor app
(bench/service_floor.py, the same SELECT by primary key) under the same gunicorn settings
module and the same wrk load, interleaved; CPU is read from /proc/<pid>/stat for the
gunicorn master and its workers (reaped workers included), with wrk's p50 and p99. A round
where one worker did >= 90% of the work (gunicorn put every keep-alive connection on it) is
flagged and left out of the median ratio. BENCH_ONLY=cpu runs only this part.

Workloads: GET by id (random ids of one customer's 500 loan applications) and the first
list page (20 items). The setups run interleaved for a few rounds and each ratio is the
median of its per-round ratios, so background load on a shared machine hits all three alike. Load comes from wrk over loopback; nothing leaves this machine.
Also measured: the image size and a rebuild with a warm layer cache after a source change
(podman, local debootstrap bases). Targets are printed, never asserted: compare ratios
measured in this one run. Prints JSON and writes bench/results/service.json.

Run with the service tool venv: `make bench-service`.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SERVICE = ROOT / "examples" / "getprospa" / "repo" / "services" / "api"
RESULTS = ROOT / "bench" / "results" / "service.json"
sys.path.insert(0, str(ROOT / "tests"))

DURATION = int(os.environ.get("BENCH_SECONDS", "5"))
# The three setups run interleaved, ROUNDS times; ratios are computed per round (side by
# side, under the same background load) and their median is reported.
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
WARMUP = 2
CONNECTIONS = 16
ROWS_PER_OWNER = 500
OWNERS = 20
TARGETS = {
    "gunicorn_vs_dev_server": 4.0,
    "gunicorn_vs_raw_driver_get": 0.40,
    "image_mb": 150,
    "warm_rebuild_s": 20,
}


def _environment(db: Any, ident: Any, name: str, user: str) -> dict[str, str]:
    return {
        **os.environ,
        "APP_ENV": "bench",
        "APP_TIER": "production",
        "DATABASE_HOST": "127.0.0.1",
        "DATABASE_PORT": str(db.server.port),
        "DATABASE_NAME": name,
        "DATABASE_USERNAME": user,
        "DATABASE_PASSWORD": "bench-password",
        "DATABASE_TLS_CA_FILE": str(db.ca),
        "SSL_CERT_FILE": str(db.ca),
        "AUTH_ISSUER": ident.issuer,
        "AUTH_AUDIENCE": ident.audience,
        "LOG_LEVEL": "info",
        "PYTHONPATH": os.environ.get("PYTHONPATH", ""),
    }


def _load(env: dict[str, str]) -> list[str]:
    """Migrate with the real `migrate`, then insert OWNERS x ROWS_PER_OWNER applications."""
    subprocess.run([sys.executable, "-m", "api.entrypoint", "migrate"], env=env, check=True)
    os.environ.update(env)
    import sqlalchemy as sa
    from api.auth import Caller
    from api.config import load_settings
    from api.db import RESOURCES, create_engine
    from api.resource import insert

    engine = create_engine(load_settings().database)
    mine: list[str] = []
    with engine.begin() as conn:
        for owner in range(OWNERS):
            caller = Caller(tenant="business-a" if owner == 0 else f"business-{owner}", staff=False)
            for i in range(ROWS_PER_OWNER):
                row = insert(
                    conn,
                    caller,
                    {
                        "business_name": f"Business {owner}-{i}",
                        "abn": f"{owner:02d}{i:09d}",
                        "amount_cents": 500000 + i,
                        "term_months": 12,
                    },
                )
                if owner == 0:
                    mine.append(row["id"])
        count = conn.execute(sa.select(sa.func.count()).select_from(RESOURCES)).scalar_one()
    engine.dispose()
    assert count == OWNERS * ROWS_PER_OWNER
    return mine


def _wait_ready(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} never became ready")


def _wrk(url: str, script: Path, seconds: int) -> dict[str, float]:
    out = subprocess.run(
        ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{seconds}s", "-s", str(script), "--latency", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    done = int(re.search(r"(\d+) requests in", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)

    def latency(p: str) -> float:
        m = re.search(rf"\s{p}%\s+([\d.]+)(us|ms|s)", out)
        value, unit = float(m.group(1)), m.group(2)
        return value * {"us": 0.001, "ms": 1, "s": 1000}[unit]

    return {
        "requests": done,
        "requests_per_s": round(rate, 1),
        "p50_ms": round(latency("50"), 2),
        "p99_ms": round(latency("99"), 2),
        "non_2xx": int(errors.group(1)) if errors else 0,
    }


def _scripts(tmp: Path, ids: list[str], token: str) -> dict[str, Path]:
    table = ",".join(f'"{i}"' for i in ids)
    common = f'wrk.headers["Authorization"] = "Bearer {token}"\nlocal ids = {{{table}}}\n'
    get = tmp / "get.lua"
    get.write_text(
        common + "request = function()\n"
        '  return wrk.format("GET", "/api/v1/loan-applications/" .. ids[math.random(#ids)])\nend\n'
    )
    page = tmp / "list.lua"
    page.write_text(common + 'wrk.path = "/api/v1/loan-applications?limit=20"\n')
    return {"get_by_id": get, "list_page": page}


def _serve(
    command: list[str], env: dict[str, str], port: int, log: Path
) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        process = subprocess.Popen(command, env={**env, "PORT": str(port)}, stdout=out, stderr=out)
    try:
        _wait_ready(f"http://127.0.0.1:{port}/readyz")
    except RuntimeError:
        _stop(process)
        raise RuntimeError(f"{command[0]} did not start:\n{log.read_text()[-3000:]}") from None
    return process


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _http_setup(
    command: list[str],
    env: dict[str, str],
    scripts: dict[str, Path],
    tmp: Path,
    name: str,
    *,
    bind: bool = False,
) -> dict[str, Any]:
    """Serve with `command` on a free loopback port; wrk each workload (warm-up, then measured)."""
    from support.service_stack import free_port

    port = free_port()
    if bind:
        command = [*command[:-1], "--bind", f"127.0.0.1:{port}", command[-1]]
    process = _serve(command, env, port, tmp / f"{name}.log")
    try:
        url = f"http://127.0.0.1:{port}"
        results = {}
        for workload, script in scripts.items():
            _wrk(url, script, WARMUP)
            results[workload] = _wrk(url, script, DURATION)
        return results
    finally:
        _stop(process)


# --- CPU per request: the service and the floor app, under the same gunicorn settings --------

CLK_TCK = os.sysconf("SC_CLK_TCK")
FLOOR = ROOT / "bench" / "service_floor.py"
ONE_WORKER_SHARE = 0.9
TARGET_CPU_RATIO = 1.3


def _stat(pid: int) -> list[str]:
    """Fields 3.. of /proc/<pid>/stat (after the command name, which may hold spaces)."""
    text = Path(f"/proc/{pid}/stat").read_text()
    return text[text.rindex(")") + 2 :].split()


def server_cpu(master: int) -> tuple[int, dict[int, int]]:
    """CPU ticks of a gunicorn master and its workers: the master's own and reaped children's
    (utime, stime, cutime, cstime), plus each live worker's utime and stime."""
    fields = _stat(master)
    total = sum(int(f) for f in fields[11:15])
    workers: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            child = _stat(int(entry.name))
        except OSError:
            continue
        if int(child[1]) == master:
            workers[int(entry.name)] = int(child[11]) + int(child[12])
    return total + sum(workers.values()), workers


def _cpu_setup(
    command: list[str], env: dict[str, str], script: Path, tmp: Path, name: str
) -> dict[str, Any]:
    """Serve with gunicorn; warm up; then wrk while reading the server processes' CPU."""
    from support.service_stack import free_port

    port = free_port()
    command = [*command[:-1], "--bind", f"127.0.0.1:{port}", command[-1]]
    process = _serve(command, env, port, tmp / f"{name}.log")
    try:
        url = f"http://127.0.0.1:{port}"
        _wrk(url, script, WARMUP)
        before, workers_before = server_cpu(process.pid)
        result = _wrk(url, script, DURATION)
        after, workers_after = server_cpu(process.pid)
    finally:
        _stop(process)
    if result["non_2xx"]:
        raise RuntimeError(f"{name}: {result['non_2xx']} responses were not 2xx: a broken setup")
    spent = {pid: t - workers_before.get(pid, 0) for pid, t in workers_after.items()}
    busiest = max(spent.values(), default=0) / max(sum(spent.values()), 1)
    cpu_ms = (after - before) / CLK_TCK * 1000
    return {
        **result,
        "cpu_ms_per_request": round(cpu_ms / max(result["requests"], 1), 3),
        "busiest_worker_share": round(busiest, 2),
        # gunicorn's gthread workers accept keep-alive connections greedily: one worker
        # may hold all of wrk's connections, so the round measures one process, not two.
        "all_connections_on_one_worker": len(spent) > 1 and busiest >= ONE_WORKER_SHARE,
    }


def cpu_rounds(env: dict[str, str], script: Path, tmp: Path, bin_dir: Path) -> dict[str, Any]:
    """The service (as generated) and the floor app, interleaved, under the same gunicorn
    settings module and wrk load; CPU-ms per request from /proc for master and workers."""
    gunicorn = str(bin_dir / "gunicorn")
    config = ["--config", "python:api.gunicorn_conf"]
    floor_env = {**env, "PYTHONPATH": f"{FLOOR.parent}{os.pathsep}{env.get('PYTHONPATH', '')}"}
    rounds = []
    for n in range(ROUNDS):
        setups = {
            "service": ([gunicorn, *config, "api.wsgi:app"], env),
            "floor": ([gunicorn, *config, f"{FLOOR.stem}:app"], floor_env),
        }
        order = list(setups) if n % 2 == 0 else list(reversed(setups))
        one = {}
        for name in order:
            command, setup_env = setups[name]
            setup_env = {
                **setup_env,
                "PROMETHEUS_MULTIPROC_DIR": str(tmp / f"prometheus-{name}"),
                "DRAINING_FILE": str(tmp / f"draining-{name}"),
            }
            one[name] = _cpu_setup(command, setup_env, script, tmp, f"cpu-{name}")
        one["ratio"] = round(
            one["service"]["cpu_ms_per_request"] / one["floor"]["cpu_ms_per_request"], 2
        )
        rounds.append(one)
    fair = [
        r
        for r in rounds
        if not (
            r["service"]["all_connections_on_one_worker"]
            or r["floor"]["all_connections_on_one_worker"]
        )
    ]
    ratio = statistics.median(r["ratio"] for r in (fair or rounds))
    return {
        "rounds": rounds,
        "flagged_rounds": [i for i, r in enumerate(rounds) if r not in fair],
        "service_cpu_ms": statistics.median(r["service"]["cpu_ms_per_request"] for r in rounds),
        "floor_cpu_ms": statistics.median(r["floor"]["cpu_ms_per_request"] for r in rounds),
        "ratio_median": round(ratio, 2),
        "target": f"<= {TARGET_CPU_RATIO}x the floor: {'met' if ratio <= TARGET_CPU_RATIO else 'NOT met'}",
    }


# --- the raw driver loop --------------------------------------------------------------------


def raw_worker(workload: str, seconds: float, threads: int, ids: list[str]) -> None:
    """One process of the raw loop: `threads` threads, the service's pool, no HTTP; prints a count."""
    import random

    from api.auth import Caller
    from api.config import load_settings
    from api.db import create_engine
    from api.resource import fetch, list_page

    engine = create_engine(load_settings().database)
    caller = Caller(tenant="business-a", staff=False)
    counts = [0] * threads
    stop = time.monotonic() + seconds

    def loop(n: int) -> None:
        while time.monotonic() < stop:
            with engine.connect() as conn:
                if workload == "get_by_id":
                    fetch(conn, caller, random.choice(ids))
                else:
                    list_page(conn, caller, limit=20, cursor=None, status=None)
            counts[n] += 1

    workers = [threading.Thread(target=loop, args=(n,)) for n in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    engine.dispose()
    print(sum(counts))


def _raw_setup(
    env: dict[str, str], ids: list[str], processes: int, threads: int, tmp: Path
) -> dict[str, Any]:
    ids_file = tmp / "ids.json"
    ids_file.write_text(json.dumps(ids))
    results = {}
    for workload in ("get_by_id", "list_page"):
        for seconds, keep in ((WARMUP, False), (DURATION, True)):
            procs = [
                subprocess.Popen(
                    [
                        sys.executable,
                        __file__,
                        "--raw-worker",
                        workload,
                        str(seconds),
                        str(threads),
                        str(ids_file),
                    ],
                    env=env,
                    stdout=subprocess.PIPE,
                    text=True,
                )
                for _ in range(processes)
            ]
            total = sum(int(p.communicate()[0].strip()) for p in procs)
            if keep:
                results[workload] = {"queries_per_s": round(total / seconds, 1)}
    return results


# --- the image ------------------------------------------------------------------------------


def _image(tmp: Path) -> dict[str, Any]:
    from support.service_stack import PREFIX, base_images, make_build, podman

    if shutil.which("podman") is None:
        return {"skipped": "podman is not installed"}
    base_images()
    work = tmp / "image" / "api"
    shutil.copytree(SERVICE, work)
    image = f"localhost/{PREFIX}-bench-api"

    def build(tag: str) -> float:
        started = time.monotonic()
        proc = make_build(work, image, tag)
        if proc.returncode != 0:
            raise RuntimeError(f"make build failed:\n{proc.stdout[-3000:]}{proc.stderr[-3000:]}")
        return time.monotonic() - started

    try:
        first = build("first")
        with (work / "src" / "api" / "app.py").open("a") as source:
            source.write("\n# a source change: only the service's own layers rebuild\n")
        warm = build("warm")
        size = int(
            podman("image", "inspect", f"{image}:warm", "--format", "{{.Size}}").stdout.strip()
        )
        return {
            "size_mb": round(size / 1e6, 1),
            "first_build_s": round(first, 1),
            "warm_rebuild_s": round(warm, 1),
        }
    finally:
        podman("rmi", "-f", f"{image}:first", f"{image}:warm", check=False)


def main() -> None:
    from support.service_stack import database, identity, workdir

    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: `make system-deps` installs it")
    # A scratch copy of the reference service: importing it must not leave bytecode in
    # examples/ (the reference test compares that folder byte for byte).
    service = workdir() / "service"
    shutil.copytree(SERVICE, service)
    os.environ["PYTHONPATH"] = str(service / "src")
    sys.path.insert(0, str(service / "src"))
    db, ident = database(), identity()
    db.create("bench", "bench", "bench-password")
    env = _environment(db, ident, "bench", "bench")
    ids = _load(env)
    tmp = workdir() / "bench"
    tmp.mkdir()
    scripts = _scripts(tmp, ids, ident.tokens["business_a"])
    defaults = json.loads((SERVICE / "src" / "api" / "service.json").read_text())["gunicorn"]
    bin_dir = Path(sys.executable).parent
    results: dict[str, Any] = {
        "setup": {
            "cpus": os.cpu_count(),
            "duration_s": DURATION,
            "rounds": ROUNDS,
            "connections": CONNECTIONS,
            "rows": OWNERS * ROWS_PER_OWNER,
            "gunicorn": defaults,
            "database": "MariaDB 10.11 on loopback, TLS verified",
        }
    }
    cpu = cpu_rounds(env, scripts["get_by_id"], tmp, bin_dir)
    results["cpu_per_request"] = cpu
    if os.environ.get("BENCH_ONLY") == "cpu":
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(results, indent=2) + "\n")
        print(json.dumps(results, indent=2))
        return
    dev_command = [
        sys.executable,
        "-c",
        "import os; from api import create_app; "
        "create_app().run(host='127.0.0.1', port=int(os.environ['PORT']))",
    ]
    dev_env = {**env, "DRAINING_FILE": str(tmp / "dev-draining")}
    rounds = []
    for _ in range(ROUNDS):
        rounds.append(
            {
                "gunicorn": _gunicorn(env, scripts, tmp, bin_dir),
                "flask_dev_server": _http_setup(dev_command, dev_env, scripts, tmp, "dev"),
                "raw_driver": _raw_setup(env, ids, defaults["workers"], defaults["threads"], tmp),
            }
        )
    results["rounds"] = rounds

    def ratio(workload: str, other: str, key: str) -> float:
        values = [
            r["gunicorn"][workload]["requests_per_s"] / r[other][workload][key] for r in rounds
        ]
        return round(statistics.median(values), 2)

    ratios = {
        "gunicorn_vs_dev_server_get": ratio("get_by_id", "flask_dev_server", "requests_per_s"),
        "gunicorn_vs_dev_server_list": ratio("list_page", "flask_dev_server", "requests_per_s"),
        "gunicorn_vs_raw_driver_get": ratio("get_by_id", "raw_driver", "queries_per_s"),
        "gunicorn_vs_raw_driver_list": ratio("list_page", "raw_driver", "queries_per_s"),
    }
    results["ratios"] = ratios
    results["image"] = _image(tmp)
    image = results["image"]
    results["targets"] = {
        "gunicorn >= 4x dev server (get)": [
            ratios["gunicorn_vs_dev_server_get"],
            ratios["gunicorn_vs_dev_server_get"] >= 4,
        ],
        "gunicorn >= 4x dev server (list)": [
            ratios["gunicorn_vs_dev_server_list"],
            ratios["gunicorn_vs_dev_server_list"] >= 4,
        ],
        "gunicorn >= 40% of raw driver (get)": [
            ratios["gunicorn_vs_raw_driver_get"],
            ratios["gunicorn_vs_raw_driver_get"] >= 0.4,
        ],
        "image <= 150 MB": [image.get("size_mb"), image.get("size_mb", 1e9) <= TARGETS["image_mb"]],
        "service CPU-ms per request <= 1.3x the floor (get)": [
            cpu["ratio_median"],
            cpu["ratio_median"] <= TARGET_CPU_RATIO,
        ],
        "warm rebuild < 20 s": [
            image.get("warm_rebuild_s"),
            image.get("warm_rebuild_s", 1e9) < TARGETS["warm_rebuild_s"],
        ],
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


def _gunicorn(
    env: dict[str, str], scripts: dict[str, Path], tmp: Path, bin_dir: Path
) -> dict[str, Any]:
    """gunicorn as generated (its settings module), bound to loopback for the benchmark."""
    command = [str(bin_dir / "gunicorn"), "--config", "python:api.gunicorn_conf", "api.wsgi:app"]
    env = {
        **env,
        "PROMETHEUS_MULTIPROC_DIR": str(tmp / "prometheus"),
        "DRAINING_FILE": str(tmp / "draining"),
    }
    return _http_setup(command, env, scripts, tmp, "gunicorn", bind=True)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--raw-worker":
        _, _, workload, seconds, threads, ids_file = sys.argv
        raw_worker(workload, float(seconds), int(threads), json.loads(Path(ids_file).read_text()))
    else:
        main()
