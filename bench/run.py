"""
The benchmark (`make bench`): the tracker against Datasette and the raw-SQL floor, on the
same generated data, measured in one run so that the ratios mean something.

1. Generates the data (generate_data) into a scratch database: a SQLite file, or with
   --pg a PostgreSQL database (and, for Datasette, which reads SQLite only, a SQLite file
   made from the same seed: the same rows).
2. Serves the app with gunicorn (2 sync workers, production settings: DEBUG off,
   persistent connections) and the SQLite file with Datasette.
3. For each endpoint, round-robin: wrk on the app, then wrk on Datasette's equivalent
   where there is one (the same SQL through ?sql=, or its row and full-text pages), and
   the floor: the same SQL run in a loop in this process, with no HTTP and no Python
   objects.
4. Prints the table and writes it to docs/benchmarks.md (or --out), with the machine and
   the date. Queries per request are counted in-process with Django's test client, at
   the benchmark's scale.

Absolute figures move by tens of percent between runs on these machines; compare ratios.
"""

import argparse
import datetime
import json
import os
import platform
import re
import secrets
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
DATA = ROOT / "bench" / ".data"
PG_DATABASE = "arms_talks_bench"


@dataclass
class Endpoint:
    name: str
    app: str  # path on the app
    headers: dict = field(default_factory=dict)
    datasette: str | None = None  # path on Datasette, or None where it has no equivalent
    floor_sql: list = field(default_factory=list)  # the SQL the app ran for it, cache empty
    note: str = ""
    twelve_topics: bool = False  # served from the data generated with 12 topics


@dataclass
class Measure:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int


@dataclass
class Result:
    endpoint: Endpoint
    app: Measure
    datasette: Measure | None
    floor_per_second: float | None
    queries: int
    app_worker_rss_mb: float


def log(message):
    print(message, file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(url, timeout=120, context=None):
    """Until ``url`` answers 2xx (``context``: the TLS context for an https URL)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=10, context=context) as response:
                response.read()
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def manage(env, *args, capture=False):
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=capture,
        text=True,
    )


def prepare_sqlite(path, scale, seed, topics, env):
    path.unlink(missing_ok=True)
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    env = {**env, "DATABASE_URL": f"sqlite:///{path}"}
    manage(env, "migrate", "--noinput", "-v0")
    manage(
        env, "generate_data", "--scale", str(scale), "--seed", str(seed), "--topics", str(topics)
    )
    # Datasette and the floor read it as well: a settled file, statistics for the planner.
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.execute("ANALYZE")
    connection.close()
    return env["DATABASE_URL"]


def prepare_postgresql(name, scale, seed, topics, env):
    admin = "postgres://postgres@127.0.0.1:5432/postgres"
    import psycopg

    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        connection.execute(f"CREATE DATABASE {name}")
    url = f"postgres://postgres@127.0.0.1:5432/{name}"
    env = {**env, "DATABASE_URL": url}
    manage(env, "migrate", "--noinput", "-v0")
    manage(
        env, "generate_data", "--scale", str(scale), "--seed", str(seed), "--topics", str(topics)
    )
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("VACUUM ANALYZE")
    return url


def start(command, env, log_path):
    log_file = log_path.open("w")
    return subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT
    ), log_file


def wrk(url, duration, headers):
    command = ["wrk", "-t2", "-c16", f"-d{duration}s", "--latency", "--timeout", "10s"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    output = subprocess.run(
        [*command, url], capture_output=True, text=True, check=True, timeout=duration + 60
    ).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    latency = dict(re.findall(r"^\s+(50|99)%\s+([\d.]+\w+)", output, re.M))
    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", output))
    socket_errors = re.search(r"Socket errors: (.*)", output)
    if socket_errors:
        errors += sum(int(n) for n in re.findall(r"\d+", socket_errors.group(1)))
    return Measure(rate, to_ms(latency.get("50", "0ms")), to_ms(latency.get("99", "0ms")), errors)


def to_ms(text):
    value, unit = re.match(r"([\d.]+)(\w+)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[unit]


def worker_memory(master_pid):
    """Each of the gunicorn master's workers: (pid, resident memory in MB)."""
    workers = []
    for child in Path("/proc").glob("[0-9]*"):
        try:
            status = (child / "status").read_text()
        except OSError:
            continue
        if re.search(rf"^PPid:\s+{master_pid}$", status, re.M):
            rss = re.search(r"^VmRSS:\s+(\d+) kB", status, re.M)
            workers.append((int(child.name), int(rss.group(1)) / 1024 if rss else 0))
    return workers


def worker_rss_mb(master_pid):
    """The largest resident memory of the gunicorn master's workers, in MB."""
    return max((mb for _, mb in worker_memory(master_pid)), default=0)


def floor(url, sql_list, seconds):
    """Requests per second if a request were nothing but these queries, run here."""
    if not sql_list:
        return None
    if url.startswith("sqlite"):
        connection = sqlite3.connect(url.removeprefix("sqlite:///"))

        def execute(sql, params):
            return connection.execute(sql, params).fetchall()

    else:
        import psycopg

        connection = psycopg.connect(url, autocommit=True)

        def execute(sql, params):
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                return cursor.fetchall() if cursor.description else []

    began, count = time.perf_counter(), 0
    while time.perf_counter() - began < seconds:
        for sql, params in sql_list:
            execute(sql, params)
        count += 1
    rate = count / (time.perf_counter() - began)
    connection.close()
    return rate


QUERY_PROBE = """
import json, sys
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
client = Client()
out = {}
for name, path, htmx in json.loads(sys.argv[1]):
    headers = {"HX-Request": "true"} if htmx else {}
    from django.core.cache import cache
    cache.clear()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path, headers=headers)
        if getattr(response, "streaming", False):
            b"".join(response.streaming_content)
    cached = []
    with CaptureQueriesContext(connection) as again:
        client.get(path, headers=headers)
    out[name] = {
        "status": response.status_code,
        "queries": len(queries.captured_queries),
        "cached_queries": len(again.captured_queries),
        "sql": [q["sql"] for q in queries.captured_queries],
    }
print(json.dumps(out))
"""


def probe_queries(env, endpoints):
    """Queries per request (first request, cache empty) and their SQL, in-process."""
    payload = json.dumps([(e.name, e.app, bool(e.headers)) for e in endpoints])
    done = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "shell",
            "-c",
            QUERY_PROBE.replace("sys.argv[1]", repr(payload)),
        ],
        cwd=ROOT,
        env={**env, "DEBUG": "1", "ALLOWED_HOSTS": "testserver"},
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def replayable(statements):
    """The captured SQL as plain queries: a PostgreSQL server-side cursor (what .iterator()
    uses) becomes the SELECT it reads."""
    plain = []
    for sql in statements:
        cursor = re.match(r"DECLARE \S+ .*?CURSOR .*?FOR (.*)", sql, re.S)
        if cursor:
            sql = cursor.group(1)
        elif re.match(r"(CLOSE|FETCH) ", sql):
            continue
        plain.append((sql, ()))
    return plain


def endpoints_for(sqlite_path):
    """What to measure, and Datasette's equivalent, on the generated data."""
    connection = sqlite3.connect(sqlite_path)
    topic_id, topic_slug = connection.execute(
        "SELECT id, slug FROM positions_topic WHERE slug = 'gen-topic-3'"
    ).fetchone()
    statement_id = connection.execute(
        "SELECT id FROM positions_statement ORDER BY id LIMIT 1 OFFSET 1000"
    ).fetchone()[0]
    connection.close()
    common, rare = "verification", "telemetry"  # in about 10% and 0.1% of the quotes
    list_sql = (
        "SELECT s.id, s.quote, s.stance, s.kind, s.stated_on, s.start, s.[end], s.source_id, "
        "a.id AS actor_id, a.name AS actor_name, a.role AS actor_role, "
        "(SELECT count(*) FROM positions_statement s2 JOIN positions_statementtopic t2 "
        "ON t2.statement_id = s2.id WHERE t2.topic_id = :topic) AS total "
        "FROM positions_statement s JOIN positions_statementtopic t ON t.statement_id = s.id "
        "JOIN positions_actor a ON a.id = s.actor_id WHERE t.topic_id = :topic "
        "ORDER BY s.stated_on, s.source_id, s.start, s.id LIMIT 50"
    )

    def sql_url(sql, **params):
        return "/bench.json?" + urllib.parse.urlencode({"sql": sql, **params, "_shape": "array"})

    return [
        Endpoint(
            "statements list (topic, 50, count)",
            f"/api/v1/statements/?topic={topic_slug}&page_size=50",
            datasette=sql_url(list_sql, topic=topic_id),
        ),
        Endpoint(
            "statement detail",
            f"/api/v1/statements/{statement_id}/",
            datasette=f"/bench/positions_statement/{statement_id}.json",
        ),
        Endpoint(
            f"search, common term ({common})",
            f"/api/v1/statements/?q={common}&page_size=50",
            datasette=f"/bench/positions_statement.json?_search={common}&_size=50",
            note="Datasette: its _search on the same FTS5 table",
        ),
        Endpoint(
            f"search, rare term ({rare})",
            f"/api/v1/statements/?q={rare}&page_size=50",
            datasette=f"/bench/positions_statement.json?_search={rare}&_size=50",
            note="Datasette: its _search on the same FTS5 table",
        ),
        Endpoint("comparison API", "/api/v1/comparison/"),
        Endpoint("dashboard (50 topics)", "/"),
        Endpoint("dashboard (12 topics)", "/", twelve_topics=True),
        Endpoint("htmx fragment (dashboard, party=RU)", "/?party=RU", {"HX-Request": "true"}),
    ]


def machine():
    cpu = "unknown CPU"
    try:
        cpu = re.search(r"model name\s*:\s*(.*)", Path("/proc/cpuinfo").read_text()).group(1)
    except (OSError, AttributeError):
        pass
    memory = ""
    try:
        kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
        memory = f", {kb / 1024 / 1024:.0f} GiB"
    except (OSError, AttributeError):
        pass
    return f"{os.cpu_count()} cores ({cpu}){memory}, {platform.system()} {platform.release()}"


def ratio(a, b):
    if b == 0 and a:
        return "∞ (none of the other's requests finished)"
    return f"{a / b:.2f}×" if a and b else "—"


def report(results, args, database, started):
    lines = [
        "# Benchmarks",
        "",
        f"Run on {datetime.date.today().isoformat()}, {machine()}; Python "
        f"{platform.python_version()}. Database: {database}, scale {args.scale} "
        f"(seed {args.seed}). App: gunicorn, 2 sync workers, DEBUG off. Load: wrk -t2 -c16, "
        f"{args.duration} s per endpoint, endpoints measured round-robin (app, then "
        "Datasette). Floor: the same SQL run in a loop in one process, without HTTP.",
        "",
        "Absolute rates move by tens of percent between runs on these machines: read the "
        "ratios, measured in the same run.",
        "",
        "| endpoint | app req/s | p50 ms | p99 ms | errors | queries/request (cached) | "
        "Datasette req/s | app ÷ Datasette | floor req/s | app ÷ floor | worker MB |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for result in results:
        d = result.datasette
        lines.append(
            f"| {result.endpoint.name} | {result.app.requests_per_second:.0f} | "
            f"{result.app.p50_ms:.1f} | {result.app.p99_ms:.1f} | {result.app.errors} | "
            f"{result.queries} | "
            f"{f'{d.requests_per_second:.0f}' if d else '—'} | "
            f"{ratio(result.app.requests_per_second, d.requests_per_second if d else None)} | "
            f"{f'{result.floor_per_second:.0f}' if result.floor_per_second else '—'} | "
            f"{ratio(result.app.requests_per_second, result.floor_per_second)} | "
            f"{result.app_worker_rss_mb:.0f} |"
        )
    peak = max(r.app_worker_rss_mb for r in results)
    lines += [
        "",
        f"Largest gunicorn worker memory seen during the run: {peak:.0f} MB.",
        "",
        "Targets (issue 6), as measured in this run:",
        "",
        *targets(results, peak),
        "",
        "Notes:",
        "",
    ]
    lines += [f"- {r.endpoint.name}: {r.endpoint.note}" for r in results if r.endpoint.note]
    lines += [
        "- Queries per request are counted with the cache empty, then (in brackets) with "
        "the page's fragments cached.",
        f"- Total time of the run: {time.monotonic() - started:.0f} s.",
        "",
    ]
    return "\n".join(lines)


def targets(results, peak):
    """Each target of the issue, met or missed, from this run's figures."""
    by_name = {result.endpoint.name: result for result in results}

    def versus_datasette(result):
        app, other = result.app.requests_per_second, result.datasette.requests_per_second
        return float("inf") if not other else app / other

    def verdict(ok):
        return "met" if ok else "**missed**"

    listed = versus_datasette(by_name["statements list (topic, 50, count)"])
    searches = [r for r in results if r.endpoint.name.startswith("search")]
    slowest_search = min(versus_datasette(r) for r in searches)
    dashboards = [r for r in results if r.endpoint.name.startswith(("dashboard", "htmx"))]
    dashboard = min(r.app.requests_per_second / r.floor_per_second for r in dashboards)
    errors = sum(r.app.errors for r in results)
    return [
        f"- Statements list at least 2× Datasette's ?sql=: {verdict(listed >= 2)} "
        f"({listed:.2f}×).",
        f"- Full-text search at least 1× Datasette's _search: {verdict(slowest_search >= 1)}"
        f" (the slower of the two terms: {slowest_search:.2f}×).",
        "- Dashboard time in process at most 3× its queries' floor: "
        f"{verdict(dashboard >= 1 / 3)} (the app serves {dashboard:.1f}× the floor's rate, "
        "its fragments cached and invalidated on write).",
        f"- A worker's memory under 200 MB: {verdict(peak < 200)} ({peak:.0f} MB at most).",
        f"- No errors under load: {verdict(errors == 0)} ({errors}).",
        "- Queries per request identical at two scales: checked by tests/test_scale.py for "
        "every page and endpoint (the counts above are at this run's scale).",
    ]


def prepare(args, env, name, topics):
    """Generate one dataset; return (DATABASE_URL for the app, the SQLite file Datasette reads)."""
    sqlite_path = DATA / f"{name}.sqlite3"
    log(f"Generating scale {args.scale} with {topics} topics into {sqlite_path}…")
    app_url = prepare_sqlite(sqlite_path, args.scale, args.seed, topics, env)
    if args.pg:
        log(f"Generating scale {args.scale} with {topics} topics into PostgreSQL {name}…")
        app_url = prepare_postgresql(f"{PG_DATABASE}_{name}", args.scale, args.seed, topics, env)
    return app_url, sqlite_path


def serve_app(env, name):
    port = free_port()
    process, log_file = start(
        [
            BIN / "gunicorn",
            "arms_talks.wsgi",
            f"--bind=127.0.0.1:{port}",
            "--workers=2",
            "--worker-class=sync",
            "--no-control-socket",
        ],
        env,
        DATA / f"gunicorn-{name}.log",
    )
    return process, log_file, f"http://127.0.0.1:{port}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--duration", type=int, default=10, help="seconds of wrk per run")
    parser.add_argument("--pg", action="store_true", help="serve the app from PostgreSQL")
    parser.add_argument("--out", default=str(ROOT / "docs" / "benchmarks.md"))
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: `make bench` installs it (apt-get install wrk).")
    started = time.monotonic()
    DATA.mkdir(parents=True, exist_ok=True)
    base_env = {
        **os.environ,
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "LOG_LEVEL": "WARNING",
        "STATIC_ROOT": str(DATA / "static"),
        # wrk is one client at one address: the API's per-client limits would stop it in
        # seconds, so the benchmark measures the app without them.
        "API_RATE_ANON": "off",
        "API_RATE_USER": "off",
    }
    main_url, sqlite_path = prepare(args, base_env, "bench", 50)
    twelve_url, _ = prepare(args, base_env, "bench12", 12)
    env = {**base_env, "DATABASE_URL": main_url}
    env12 = {**base_env, "DATABASE_URL": twelve_url}
    manage(env, "collectstatic", "--noinput", "-v0")

    endpoints = endpoints_for(sqlite_path)
    log("Counting queries per request…")
    probes = probe_queries(env, [e for e in endpoints if not e.twelve_topics])
    probes |= probe_queries(env12, [e for e in endpoints if e.twelve_topics])
    for endpoint in endpoints:
        probe = probes[endpoint.name]
        if probe["status"] != 200:
            sys.exit(f"{endpoint.app} answered {probe['status']} in the query probe.")
        endpoint.floor_sql = replayable(probe["sql"])

    app, app_log, app_base = serve_app(env, "bench")
    app12, app12_log, app12_base = serve_app(env12, "bench12")
    datasette_port = free_port()
    # Datasette finds an FTS table by how its CREATE statement is written; say it outright.
    metadata = DATA / "datasette-metadata.json"
    metadata.write_text(
        json.dumps(
            {
                "databases": {
                    sqlite_path.stem: {
                        "tables": {
                            "positions_statement": {
                                "fts_table": "positions_statement_fts",
                                "fts_pk": "id",
                            }
                        }
                    }
                }
            }
        )
    )
    datasette, datasette_log = start(
        [
            BIN / "datasette",
            "serve",
            str(sqlite_path),
            "--metadata",
            str(metadata),
            "--port",
            str(datasette_port),
            "--setting",
            "sql_time_limit_ms",
            "20000",
            "--setting",
            "default_page_size",
            "50",
        ],
        env,
        DATA / "datasette.log",
    )
    results = []
    try:
        datasette_base = f"http://127.0.0.1:{datasette_port}"
        for base in (app_base, app12_base):
            wait_for(f"{base}/api/v1/")
        wait_for(f"{datasette_base}/-/versions.json")
        for endpoint in endpoints:
            log(f"Measuring {endpoint.name}…")
            base, master = (app12_base, app12) if endpoint.twelve_topics else (app_base, app)
            wrk(base + endpoint.app, 1, endpoint.headers)  # warm up the workers
            app_measure = wrk(base + endpoint.app, args.duration, endpoint.headers)
            datasette_measure = None
            if endpoint.datasette:
                wrk(datasette_base + endpoint.datasette, 1, {})
                datasette_measure = wrk(datasette_base + endpoint.datasette, args.duration, {})
            probe = probes[endpoint.name]
            url = twelve_url if endpoint.twelve_topics else main_url
            results.append(
                Result(
                    endpoint=endpoint,
                    app=app_measure,
                    datasette=datasette_measure,
                    floor_per_second=floor(url, endpoint.floor_sql, min(args.duration, 5)),
                    queries=f"{probe['queries']} ({probe['cached_queries']})",
                    app_worker_rss_mb=max(worker_rss_mb(app.pid), worker_rss_mb(app12.pid)),
                )
            )
    finally:
        for process, log_file in ((app, app_log), (app12, app12_log), (datasette, datasette_log)):
            process.terminate()
            process.wait(timeout=30)
            log_file.close()
    database = "PostgreSQL 15" if args.pg else "SQLite"
    text = report(results, args, database, started)
    print(text)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text)
    log(f"Written to {args.out}")
    if any(r.app.errors for r in results):
        sys.exit("Some app requests failed: see the errors column and bench/.data/*.log.")


if __name__ == "__main__":
    main()
