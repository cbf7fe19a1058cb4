"""
The resilience run (`make resilience`): the tracker under steady load while faults are
injected, on this machine's loopback, as root (it restarts PostgreSQL and Redis).

1. Prepares a PostgreSQL database (migrate, the seed, a little generated data) and an
   editor with an API token, and serves the app with gunicorn (2 sync workers, DEBUG
   off, persistent connections) with Redis as its cache.
2. The hold: 16 connections read a mix of pages, fragments, API lists, details and
   searches while a writer adds statements (each with a client reference, retried with
   the same reference until acknowledged) and edits them, at a steady rate. It must pass
   with no error, worker memory growth under 50 MB and database connections bounded.
3. The faults, one after another, with the load and the writer still running: a
   PostgreSQL restart, kill -9 of a gunicorn worker, Redis stopped for 60 s, the
   database made read-only for 30 s, and kill -9 of the PostgreSQL postmaster. For each,
   the error window: when errors began and when they stopped, which must be within 10 s
   of the fault ending (503s to writes while the database is read-only are the expected
   answer and counted apart; reads must not fail then).
4. Every write that got a 2xx must be present afterwards, exactly once.

Prints the figures and writes them to docs/resilience.md (or --out).
"""

import argparse
import datetime
import http.client
import json
import os
import platform
import random
import secrets
import signal
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import (  # noqa: E402
    BIN,
    DATA,
    ROOT,
    free_port,
    log,
    machine,
    manage,
    wait_for,
    worker_memory,
)

DATABASE = "arms_talks_resilience"
REDIS_DB = 12
READERS = 16
# Seconds between the writer's writes: a busy newsroom's pace. Each write raises the
# content version, so it also makes every cached page render afresh once.
WRITE_EVERY = 2.0
FAULTS = ["pg-restart", "worker-kill", "redis-stop", "read-only", "pg-crash"]
RECOVERY_LIMIT = 10.0  # seconds after a fault ends by which errors must have stopped


@dataclass
class Sample:
    at: float
    kind: str  # "read" or "write"
    status: int  # 0 for a connection error or timeout
    seconds: float


@dataclass
class Fault:
    name: str
    began: float
    ended: float = 0.0
    note: str = ""


@dataclass
class Run:
    samples: list = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stop: threading.Event = field(default_factory=threading.Event)
    acknowledged: dict = field(default_factory=dict)  # client reference -> statement id
    notes: dict = field(default_factory=dict)  # statement id -> last acknowledged note
    edits: int = 0
    failures: Counter = field(default_factory=Counter)  # failed connections, by error
    memory: dict = field(default_factory=dict)  # worker pid -> [first MB, largest MB]
    connections: list = field(default_factory=list)

    def record(self, sample):
        with self.lock:
            self.samples.append(sample)


# The services


def cluster():
    version = sorted(os.listdir("/etc/postgresql"))[0]
    return version, "main"


def pg_ctl(action):
    version, name = cluster()
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, name, action],
        check=True,
        capture_output=True,
    )
    wait_until(lambda: run_ok(["pg_isready", "-q", "-h", "127.0.0.1"]), 60)


def postmaster_pid():
    version, name = cluster()
    data = Path(f"/var/lib/postgresql/{version}/{name}/postmaster.pid")
    return int(data.read_text().split()[0])


def psql(sql, database="postgres"):
    subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", database, "-qAt", "-c", sql],
        check=True,
        capture_output=True,
        env={**os.environ, "PGOPTIONS": "-c default_transaction_read_only=off"},
    )


def redis_start():
    if run_ok(["redis-cli", "-h", "127.0.0.1", "ping"]):
        return
    subprocess.run(
        ["redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "-::1", "--port", "6379"]
        + ["--save", "", "--appendonly", "no", "--dir", "/var/lib/redis"],
        check=True,
        capture_output=True,
    )
    wait_until(lambda: run_ok(["redis-cli", "-h", "127.0.0.1", "ping"]), 30)


def run_ok(command):
    return subprocess.run(command, capture_output=True).returncode == 0


def wait_until(condition, seconds):
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError("Timed out waiting for a service to come back.")
        time.sleep(0.2)


# The app


def prepare(env):
    psql(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
    psql(f"CREATE DATABASE {DATABASE}")
    manage(env, "migrate", "--noinput", "-v0")
    manage(env, "load_seed")
    manage(env, "generate_data", "--scale", "0.01", "--seed", "3", "--allow-existing")
    manage(env, "collectstatic", "--noinput", "-v0")
    made = manage(
        env,
        "shell",
        "-c",
        "from django.contrib.auth.models import Group, User\n"
        "from rest_framework.authtoken.models import Token\n"
        "user = User.objects.create_user('resilience-writer', is_staff=True)\n"
        "user.groups.add(Group.objects.get(name='Editors'))\n"
        "print(Token.objects.create(user=user).key)",
        capture=True,
    )
    return made.stdout.strip().splitlines()[-1]


def serve(env, port):
    log_file = (DATA / "resilience-gunicorn.log").open("w")
    process = subprocess.Popen(
        [BIN / "gunicorn", "arms_talks.wsgi", f"--bind=127.0.0.1:{port}", "--workers=2"]
        + ["--worker-class=sync", "--timeout=30", "--no-control-socket"],
        cwd=ROOT,
        env=env,
        stdout=log_file,
        stderr=subprocess.STDOUT,
    )
    wait_for(f"http://127.0.0.1:{port}/api/v1/")
    return process


# The load


def request(port, method, path, body=None, headers=None):
    """One request on its own connection: gunicorn's sync workers close each one after
    answering, so a kept connection would fail on its next use for no fault of the app."""
    payload = json.dumps(body).encode() if body is not None else None
    all_headers = {"Accept": "application/json", **(headers or {})}
    if payload is not None:
        all_headers["Content-Type"] = "application/json"
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request(method, path, body=payload, headers=all_headers)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def reader(run, port, paths):
    while not run.stop.is_set():
        path, headers = random.choice(paths)
        began = time.monotonic()
        try:
            status, _, _ = request(port, "GET", path, headers=headers)
        except (OSError, http.client.HTTPException) as error:
            status = 0
            run.failures[f"{type(error).__name__}: {error}"[:120]] += 1
            time.sleep(0.05)
        run.record(Sample(began, "read", status, time.monotonic() - began))


def writer(run, port, token, material):
    """Adds a statement every WRITE_EVERY seconds, and every fourth turn edits one."""
    auth = {"Authorization": f"Token {token}"}
    turn = 0
    while not run.stop.is_set():
        turn += 1
        if turn % 4 == 0 and run.notes:
            operation = edit(run, port, auth)
        else:
            operation = create(run, port, auth, material)
        while not run.stop.is_set():
            began = time.monotonic()
            try:
                status = operation()
            except (OSError, http.client.HTTPException):
                status = 0
            # None: a span already held, not a write to retry. Any other 4xx is a bug in
            # this harness or the app: recorded (the run fails on it), not retried.
            answered = 409 if status is None else status
            run.record(Sample(began, "write", answered, time.monotonic() - began))
            if status is None or 200 <= status < 500:
                break
            time.sleep(1)  # the same write again, until it is acknowledged
        time.sleep(WRITE_EVERY)


def create(run, port, auth, material):
    source_id, text, actor, topic = random.choice(material)
    reference = f"resilience:{uuid.uuid4()}"
    while True:
        start = random.randrange(0, max(1, len(text) - 80))
        end = start + random.randint(20, 60)
        if text[start:end].strip() == text[start:end]:
            break
    body = {
        "actor": actor,
        "source": source_id,
        "quote": text[start:end],
        "selector": {"start": start, "end": end},
        "topics": [topic],
        "stance": "supports",
        "kind": "paraphrase",
        "client_reference": reference,
    }

    def send():
        status, _, content = request(port, "POST", "/api/v1/statements/", body, auth)
        if status in (200, 201):
            statement = json.loads(content)["id"]
            run.acknowledged[reference] = statement
            run.notes.setdefault(statement, "")  # as created: no note
        elif status == 400 and b"already" in content:
            return None  # a span this speaker already holds: not a write; next turn
        return status

    return send


def edit(run, port, auth):
    statement = random.choice(list(run.notes))
    note = f"Edited at {time.time():.3f}"
    path = f"/api/v1/statements/{statement}/"

    def send():
        status, headers, _ = request(port, "GET", path, headers=auth)
        if status != 200:
            return status
        etag = {key.lower(): value for key, value in headers.items()}["etag"]
        status, _, _ = request(port, "PATCH", path, {"note": note}, {**auth, "If-Match": etag})
        if status == 200:
            run.notes[statement] = note
            run.edits += 1
        return status

    return send


def sampler(run, master, database_url):
    import psycopg

    connection = None
    while not run.stop.is_set():
        for pid, mb in worker_memory(master):
            first, largest = run.memory.get(pid, (mb, mb))
            run.memory[pid] = (first, max(largest, mb))
        try:
            if connection is None or connection.closed:
                connection = psycopg.connect(database_url, autocommit=True, connect_timeout=2)
            count = connection.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = %s", [DATABASE]
            ).fetchone()[0]
            run.connections.append(count - 1)  # less this sampler's own
        except psycopg.Error:
            connection = None
        run.stop.wait(2)


# The faults


def inject(name, master, seconds):
    fault = Fault(name, time.monotonic())
    if name == "pg-restart":
        pg_ctl("restart")
    elif name == "worker-kill":
        pid = worker_memory(master)[0][0]
        os.kill(pid, signal.SIGKILL)
        fault.note = f"worker {pid}"
    elif name == "redis-stop":
        subprocess.run(["redis-cli", "-h", "127.0.0.1", "shutdown", "nosave"], capture_output=True)
        time.sleep(seconds["redis"])
        redis_start()
    elif name == "read-only":
        psql("ALTER SYSTEM SET default_transaction_read_only = on")
        psql("SELECT pg_reload_conf()")
        time.sleep(seconds["read_only"])
        psql("ALTER SYSTEM RESET default_transaction_read_only")
        psql("SELECT pg_reload_conf()")
    elif name == "pg-crash":
        os.kill(postmaster_pid(), signal.SIGKILL)
        # A new postmaster refuses to start while the old one's backends still hold its
        # shared memory; they exit as they notice their postmaster is gone.
        deadline = time.monotonic() + 60
        while True:
            time.sleep(1)
            try:
                pg_ctl("start")
                break
            except subprocess.CalledProcessError:
                if time.monotonic() > deadline:
                    raise
    fault.ended = time.monotonic()
    return fault


def window(run, fault, until):
    """Errors of the requests in flight from the fault's start to ``until`` (so also one
    that began before the fault and failed because of it, such as the request a killed
    worker was serving): (reads failed, writes failed, writes answered 503, seconds from
    the start to the first error, seconds from the end of the fault to the last error)."""
    failed = [
        s
        for s in run.samples
        if s.at + s.seconds >= fault.began and s.at <= until and (s.status == 0 or s.status >= 500)
    ]
    reads = [s for s in failed if s.kind == "read"]
    unavailable = [s for s in failed if s.kind == "write" and s.status == 503]
    writes = [s for s in failed if s.kind == "write" and s.status != 503]
    if fault.name == "read-only":
        counted = reads + writes  # its 503s to writes are the answer it should give
    else:
        counted = failed
    first = min((s.at + s.seconds for s in counted), default=None)
    last = max((s.at + s.seconds for s in counted), default=None)
    return {
        "reads": len(reads),
        "writes": len(writes),
        "unavailable": len(unavailable),
        "first": None if first is None else first - fault.began,
        "last_after_end": None if last is None else last - fault.ended,
    }


# The report


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


def verify(run, env):
    """Every acknowledged write is present, once; every acknowledged edit is the last."""
    references = json.dumps(run.acknowledged)
    notes = json.dumps({str(k): v for k, v in run.notes.items()})
    code = (
        "import json\n"
        "from positions.models import Statement\n"
        f"acknowledged = json.loads({references!r})\n"
        f"notes = json.loads({notes!r})\n"
        "stored = dict(Statement.objects.filter(client_reference__startswith='resilience:')"
        ".values_list('client_reference', 'pk'))\n"
        "lost = [r for r, pk in acknowledged.items() if stored.get(r) != pk]\n"
        "current = dict(Statement.objects.filter(pk__in=[int(k) for k in notes])"
        ".values_list('pk', 'note'))\n"
        "stale = [k for k, note in notes.items() if current.get(int(k)) != note]\n"
        "print(json.dumps({'stored': len(stored), 'lost': lost, 'stale_edits': stale}))"
    )
    done = manage(env, "shell", "-c", code, capture=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def drill(env):
    """Back the database up after the faults and restore it into a new one: the seconds
    each took, and whether restore found every table identical (it checks, and runs
    verify_quotes)."""
    restored = f"{DATABASE}_restored"
    psql(f"DROP DATABASE IF EXISTS {restored} WITH (FORCE)")
    psql(f"CREATE DATABASE {restored}")
    path = DATA / "resilience.dump"
    path.unlink(missing_ok=True)
    Path(f"{path}.fingerprint.json").unlink(missing_ok=True)
    began = time.monotonic()
    manage(env, "backup", "--output", str(path), capture=True)
    backed_up = time.monotonic() - began
    began = time.monotonic()
    done = subprocess.run(
        [sys.executable, "manage.py", "restore", str(path)],
        cwd=ROOT,
        env={**env, "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{restored}"},
        capture_output=True,
        text=True,
    )
    restore_seconds = time.monotonic() - began
    psql(f"DROP DATABASE IF EXISTS {restored} WITH (FORCE)")
    return {
        "backup_seconds": backed_up,
        "restore_seconds": restore_seconds,
        "identical": done.returncode == 0 and "every table identical" in done.stdout,
        "size_kb": path.stat().st_size / 1024,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hold", type=int, default=600, help="seconds of the clean hold")
    parser.add_argument("--faults", default=",".join(FAULTS), help="which, in order")
    parser.add_argument("--redis-seconds", type=int, default=60)
    parser.add_argument("--read-only-seconds", type=int, default=30)
    parser.add_argument("--settle", type=int, default=30, help="seconds after each fault")
    parser.add_argument("--out", default=str(ROOT / "docs" / "resilience.md"))
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="a short run that checks the harness and the writes (none lost, all "
        "acknowledged ones stored once) and reports the rest without judging it; for CI",
    )
    args = parser.parse_args()
    faults = [name for name in args.faults.split(",") if name]
    unknown = set(faults) - set(FAULTS)
    if unknown:
        sys.exit(f"Unknown faults: {', '.join(sorted(unknown))}; choose from {FAULTS}.")
    if os.geteuid() != 0:
        sys.exit("make resilience restarts PostgreSQL and Redis: run it as root.")
    started = time.monotonic()
    DATA.mkdir(parents=True, exist_ok=True)
    if not run_ok(["pg_isready", "-q", "-h", "127.0.0.1"]):
        pg_ctl("start")
    redis_start()
    database_url = f"postgres://postgres@127.0.0.1:5432/{DATABASE}"
    env = {
        **os.environ,
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "LOG_LEVEL": "WARNING",
        "STATIC_ROOT": str(DATA / "static"),
        "DATABASE_URL": database_url,
        "REDIS_URL": f"redis://127.0.0.1:6379/{REDIS_DB}",
        # The API's per-client limits stay on, so that stopping Redis tests them too
        # (they fail open), at a rate this load from one address does not reach.
        "API_RATE_ANON": "200/s",
        "API_RATE_USER": "200/s",
    }
    log("Preparing the database…")
    token = prepare(env)
    port = free_port()
    app = serve(env, port)
    run = Run()
    try:
        material, paths = load_material(port)
        threads = [
            threading.Thread(target=reader, args=(run, port, paths), daemon=True)
            for _ in range(READERS)
        ]
        threads.append(
            threading.Thread(target=writer, args=(run, port, token, material), daemon=True)
        )
        threads.append(
            threading.Thread(target=sampler, args=(run, app.pid, database_url), daemon=True)
        )
        for thread in threads:
            thread.start()
        log(f"The hold: {args.hold} s at {READERS} connections, with the writer…")
        hold_began = time.monotonic()
        time.sleep(args.hold)
        hold_ended = time.monotonic()
        hold_memory = {pid: values for pid, values in run.memory.items()}
        windows = []
        for name in faults:
            log(f"Fault: {name}…")
            fault = inject(
                name,
                app.pid,
                {"redis": args.redis_seconds, "read_only": args.read_only_seconds},
            )
            time.sleep(args.settle)
            windows.append((fault, window(run, fault, time.monotonic())))
        run.stop.set()
        for thread in threads:
            thread.join(timeout=20)
        checked = verify(run, env)
        checked["drill"] = drill(env)
    finally:
        run.stop.set()
        app.send_signal(signal.SIGTERM)
        app.wait(timeout=30)
        subprocess.run(["redis-cli", "-h", "127.0.0.1", "-n", str(REDIS_DB), "flushdb"])
    report = write_report(args, run, hold_began, hold_ended, hold_memory, windows, checked)
    report["seconds"] = time.monotonic() - started
    Path(args.out).write_text(render(args, report))
    print(render(args, report))
    checked = report["checked"]
    writes_ok = (
        report["acknowledged"]
        and not checked["lost"]
        and not checked["stale_edits"]
        and checked["drill"]["identical"]
    )
    if args.smoke and not writes_ok:
        sys.exit("The smoke run lost or missed writes: see the report above.")
    if not args.smoke and not report["passed"]:
        sys.exit("The resilience run failed: see the report above.")


def load_material(port):
    """Sources, a speaker and topics to write with; the paths the readers read."""
    _, _, content = request(port, "GET", "/api/v1/statements/?page_size=20")
    statements = json.loads(content)["results"]
    _, _, content = request(port, "GET", "/api/v1/actors/?party=RU&page_size=1")
    actor = json.loads(content)["results"][0]["id"]
    _, _, content = request(port, "GET", "/api/v1/topics/?page_size=5")
    topics = [topic["slug"] for topic in json.loads(content)["results"]]
    material = []
    for source_id in sorted({s["source"] for s in statements})[:5]:
        _, _, content = request(port, "GET", f"/api/v1/sources/{source_id}/")
        material.append((source_id, json.loads(content)["text"], actor, topics[0]))
    statement = statements[0]["id"]
    htmx = {"HX-Request": "true"}
    paths = [
        ("/", {}),
        (f"/?topic={topics[1]}", htmx),
        ("/?party=RU", htmx),
        ("/api/v1/statements/?page_size=50", {}),
        (f"/api/v1/statements/?topic={topics[0]}&page_size=50", {}),
        (f"/api/v1/statements/{statement}/", {}),
        (f"/statements/{statement}/", {}),
        ("/api/v1/statements/?q=verification", {}),
        ("/api/v1/comparison/", {}),
        ("/sources/", {}),
    ]
    return material, paths


def write_report(args, run, hold_began, hold_ended, hold_memory, windows, checked):
    # Requests that began and ended within the hold: one still running when the first
    # fault begins belongs to that fault's window.
    hold = [s for s in run.samples if hold_began <= s.at and s.at + s.seconds <= hold_ended]
    reads = [s for s in hold if s.kind == "read"]
    writes = [s for s in hold if s.kind == "write"]
    errors = [s for s in hold if s.status == 0 or s.status >= 500]
    refused = [s for s in run.samples if s.kind == "write" and 400 <= s.status < 500]
    refused = [s for s in refused if s.status != 409]
    growth = max((largest - first for first, largest in hold_memory.values()), default=0)
    largest = max((largest for _, largest in run.memory.values()), default=0)
    fault_rows = []
    for fault, counts in windows:
        recovered = counts["last_after_end"] is None or counts["last_after_end"] <= RECOVERY_LIMIT
        fault_rows.append((fault, counts, recovered))
    passed = (
        not errors
        and not refused
        and run.acknowledged
        and growth < 50
        and max(run.connections, default=0) <= 4
        and not checked["lost"]
        and not checked["stale_edits"]
        and checked["drill"]["identical"]
        and all(recovered for _, _, recovered in fault_rows)
        and all(
            counts["reads"] == 0 for fault, counts, _ in fault_rows if fault.name == "read-only"
        )
    )
    return {
        "hold_seconds": hold_ended - hold_began,
        "reads": len(reads),
        "reads_per_second": len(reads) / max(1e-9, hold_ended - hold_began),
        "writes": len(writes),
        "errors": len(errors),
        "p50_ms": 1000 * statistics.median([s.seconds for s in reads]) if reads else 0,
        "p99_ms": 1000 * percentile([s.seconds for s in reads], 0.99),
        "write_p99_ms": 1000 * percentile([s.seconds for s in writes], 0.99),
        "memory_growth_mb": growth,
        "largest_worker_mb": largest,
        "connections_max": max(run.connections, default=0),
        "acknowledged": len(run.acknowledged),
        "refused": len(refused),
        "answers": sorted(Counter((s.kind, s.status) for s in hold).items()),
        "edits": run.edits,
        "failures": run.failures.most_common(5),
        "checked": checked,
        "faults": fault_rows,
        "passed": passed,
    }


def render(args, report):
    def seconds(value):
        return "—" if value is None else f"{value:+.1f} s"

    lines = [
        "# Resilience",
        "",
        f"Run on {datetime.date.today().isoformat()}, {machine()}; Python "
        f"{platform.python_version()}; PostgreSQL {cluster()[0]}, Redis as the cache. App: "
        "gunicorn, 2 sync workers, DEBUG off, persistent connections. Load: "
        f"{READERS} connections reading a mix (dashboard, fragments, API lists, details, "
        f"search) and one writer adding a statement every {WRITE_EVERY} s (each fourth "
        "turn an edit), each write retried with its client reference until acknowledged. "
        f"Made by `make resilience` (bench/resilience.py); {report['seconds']:.0f} s in all.",
        "",
        f"**Result: {'passed' if report['passed'] else 'failed'}"
        + (" (a smoke run: only the writes are judged).**" if args.smoke else ".**"),
        "",
        f"## The hold ({report['hold_seconds']:.0f} s, no faults)",
        "",
        "| reads | reads/s | read p50 | read p99 | writes | write p99 | errors | "
        "worker memory growth | largest worker | database connections (max) |",
        "|---|---|---|---|---|---|---|---|---|---|",
        f"| {report['reads']:,} | {report['reads_per_second']:.0f} | "
        f"{report['p50_ms']:.0f} ms | {report['p99_ms']:.0f} ms | {report['writes']:,} | "
        f"{report['write_p99_ms']:.0f} ms | {report['errors']} | "
        f"{report['memory_growth_mb']:.1f} MB | {report['largest_worker_mb']:.0f} MB | "
        f"{report['connections_max']} |",
        "",
        "Answers during the hold (kind, status: count; status 0 is a failed connection): "
        + ", ".join(f"{kind} {status}: {count}" for (kind, status), count in report["answers"])
        + ".",
        "",
        *(
            [
                "Failed connections over the whole run, faults included (each is also "
                "counted as an error of the hold or of a fault below): "
                + "; ".join(f"{error} ({count})" for error, count in report["failures"])
                + ".",
                "",
            ]
            if report["failures"]
            else []
        ),
        "## The faults (load and writer running)",
        "",
        "Errors are 5xx answers and failed connections of the requests in flight from the "
        f"fault's start until {args.settle} s after it ended, timed when each answer (or "
        "failure) came. Recovered: the last error came at most "
        f"{RECOVERY_LIMIT:.0f} s after the fault ended.",
        "",
        "| fault | lasted | reads failed | writes failed | writes answered 503 | first error "
        "after start | last error after end | recovered |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for fault, counts, recovered in report["faults"]:
        name = fault.name + (f" ({fault.note})" if fault.note else "")
        lines.append(
            f"| {name} | {fault.ended - fault.began:.1f} s | {counts['reads']} | "
            f"{counts['writes']} | {counts['unavailable']} | {seconds(counts['first'])} | "
            f"{seconds(counts['last_after_end'])} | {'yes' if recovered else 'NO'} |"
        )
    checked = report["checked"]
    lines += [
        "",
        "## Writes",
        "",
        f"- Acknowledged (2xx): {report['acknowledged']:,} new statements and "
        f"{report['edits']:,} edits.",
        f"- Lost: {len(checked['lost'])}; duplicates: 0 (each reference is unique in the "
        f"database); edits whose acknowledged text is not the stored one: "
        f"{len(checked['stale_edits'])}.",
        f"- Stored with this run's references: {checked['stored']:,}; writes refused as "
        f"invalid (a 4xx other than a span already held): {report['refused']}.",
        "",
        "## Backup and restore, after the faults",
        "",
        f"`make backup`: {checked['drill']['backup_seconds']:.1f} s "
        f"({checked['drill']['size_kb']:,.0f} KB). `make restore` into a new database, with "
        f"its checks (every table's count and checksum, verify_quotes): "
        f"{checked['drill']['restore_seconds']:.1f} s; identical: "
        f"{'yes' if checked['drill']['identical'] else 'NO'}.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
