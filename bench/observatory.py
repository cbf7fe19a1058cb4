"""
The HTTP Observatory run (`make observatory`): MDN's HTTP Observatory scores the tracker as
it is deployed, and the run fails unless the grade is A+, the score at least 100 and every
one of the scanner's tests passed.

1. A throwaway certificate authority and a certificate for localhost (openssl), in a
   scratch folder that is deleted afterwards; nothing is added to the machine's trust store.
2. The app with the production settings (DEBUG off, secure cookies, HSTS) on a scratch
   SQLite database with the seed, served by gunicorn on a free loopback port.
3. nginx with the project's own deploy/nginx/arms-talks.conf in front: TLS on
   127.0.0.1:443 and a redirect from http on 127.0.0.1:80. The scanner knows only the
   standard ports, so this runs as root.
4. The scanner's src/scan.js for localhost, with NODE_EXTRA_CA_CERTS naming the throwaway
   CA and its HSTS preload list emptied (`{}`), so that no preload entry counts.
5. Checks through the proxy that the scanner does not make: the http redirect keeps the
   path, an admin sign-in works over TLS (CSRF and the __Host- cookies behind a proxy),
   and the security headers are on the API, the admin and a 404 too.

Prints the results and writes them to docs/observatory.md (or --out).
"""

import argparse
import datetime
import grp
import http.client
import http.cookies
import json
import os
import pwd
import re
import secrets
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import BIN, ROOT, free_port, log, machine, manage, wait_for  # noqa: E402

SCANNER = ROOT / "bench" / "observatory" / "node_modules" / "@mdn" / "mdn-http-observatory"
SITE_CONFIG = ROOT / "deploy" / "nginx" / "arms-talks.conf"
HOST = "localhost"
ADDRESS = "127.0.0.1"
NGINX_USER = "nobody"
PASSING_SCORE = 100
# Headers every answer must carry, whatever the page (the scanner looks at / only).
EVERY_ANSWER = (
    "content-security-policy",
    "strict-transport-security",
    "x-content-type-options",
    "referrer-policy",
    "cross-origin-opener-policy",
    "cross-origin-resource-policy",
    "x-frame-options",
)


class Failure(Exception):
    pass


def run(command, **kwargs):
    return subprocess.run(command, check=True, capture_output=True, text=True, **kwargs)


# TLS


def make_certificates(folder):
    """A CA that lives for two days and signs one certificate, for localhost."""
    ca_key, ca = folder / "ca.key", folder / "ca.pem"
    key, request, certificate = folder / "server.key", folder / "server.csr", folder / "server.pem"
    curve = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    run(
        ["openssl", "req", "-x509", *curve, "-keyout", ca_key, "-out", ca, "-days", "2"]
        + ["-subj", "/CN=Arms Talks throwaway CA (make observatory)"]
        + ["-addext", "basicConstraints=critical,CA:TRUE"]
        + ["-addext", "keyUsage=critical,keyCertSign,cRLSign"]
    )
    run(["openssl", "req", *curve, "-keyout", key, "-out", request, "-subj", f"/CN={HOST}"])
    extensions = folder / "server.ext"
    extensions.write_text(
        f"subjectAltName=DNS:{HOST},IP:{ADDRESS}\n"
        "basicConstraints=critical,CA:FALSE\n"
        "keyUsage=critical,digitalSignature\n"
        "extendedKeyUsage=serverAuth\n"
    )
    run(
        ["openssl", "x509", "-req", "-in", request, "-CA", ca, "-CAkey", ca_key]
        + ["-CAcreateserial", "-out", certificate, "-days", "2", "-extfile", extensions]
    )
    return ca, certificate, key


# The app and nginx


def serve_app(folder, port):
    env = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": HOST,
        "TRUSTED_PROXY_COUNT": "1",
        "LOG_LEVEL": "WARNING",
        "STATIC_ROOT": str(folder / "static"),
        "DATABASE_URL": f"sqlite:///{folder / 'tracker.sqlite3'}",
        "REDIS_URL": "",
    }
    manage(env, "migrate", "--noinput", "-v0")
    manage(env, "load_seed")
    manage(env, "collectstatic", "--noinput", "-v0")
    password = secrets.token_urlsafe(24)
    manage(
        env,
        "shell",
        "--no-imports",
        "-c",
        "from django.contrib.auth.models import User\n"
        f"User.objects.create_user('observatory', password={password!r}, is_staff=True)",
    )
    with (folder / "gunicorn.log").open("w") as log_file:
        app = subprocess.Popen(
            [BIN / "gunicorn", "arms_talks.wsgi", f"--bind={ADDRESS}:{port}", "--workers=2"]
            + ["--no-control-socket"],
            cwd=ROOT,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    return app, password


def nginx_config(folder, upstream_port, certificate, key):
    site = SITE_CONFIG.read_text()
    for name, value in {
        "UPSTREAM": f"{ADDRESS}:{upstream_port}",
        "LISTEN_HTTP": f"{ADDRESS}:80",
        "LISTEN_HTTPS": f"{ADDRESS}:443",
        "SERVER_NAME": HOST,
        "CERTIFICATE": str(certificate),
        "CERTIFICATE_KEY": str(key),
    }.items():
        site = site.replace(f"@{name}@", value)
    if "@" in re.sub(r"#.*", "", site):
        raise Failure(f"{SITE_CONFIG} names a placeholder this run does not fill.")
    (folder / "arms-talks.conf").write_text(site)
    temporary = folder / "nginx-temp"
    temporary.mkdir()
    shutil.chown(temporary, user=NGINX_USER)
    paths = "\n".join(
        f"    {kind}_temp_path {temporary / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    config = folder / "nginx.conf"
    config.write_text(
        f"user {NGINX_USER} {grp.getgrgid(pwd.getpwnam(NGINX_USER).pw_gid).gr_name};\n"
        "worker_processes 1;\n"
        f"pid {folder / 'nginx.pid'};\n"
        f"error_log {folder / 'nginx-error.log'} warn;\n"
        "events { worker_connections 256; }\n"
        "http {\n"
        f"    access_log {folder / 'nginx-access.log'};\n"
        f"{paths}\n"
        f"    include {folder / 'arms-talks.conf'};\n"
        "}\n"
    )
    return config


def start_nginx(folder, config):
    command = ["nginx", "-p", folder, "-e", folder / "nginx-error.log", "-c", config]
    tested = subprocess.run([*command, "-t"], capture_output=True, text=True)
    if tested.returncode:
        raise Failure(f"nginx refused the configuration:\n{tested.stderr}")
    process = subprocess.Popen(
        [*command, "-g", "daemon off;"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    time.sleep(0.5)
    if process.poll() is not None:
        raise Failure(f"nginx did not start:\n{process.stderr.read().decode()}")
    return process


def ports_free():
    taken = []
    for port in (80, 443):
        probe = subprocess.run(["ss", "-Hltn", f"sport = :{port}"], capture_output=True, text=True)
        if probe.stdout.strip():
            taken.append(port)
    if taken:
        raise Failure(
            f"Something already listens on port {' and '.join(map(str, taken))}; the scanner "
            "only knows ports 80 and 443, so stop it first (ss -ltnp shows what it is)."
        )


# Requests through the proxy


class Client:
    def __init__(self, ca):
        self.context = ssl.create_default_context(cafile=str(ca))

    def request(self, method, path, body=None, headers=None, tls=True):
        if tls:
            connection = http.client.HTTPSConnection(HOST, 443, context=self.context, timeout=15)
        else:
            connection = http.client.HTTPConnection(HOST, 80, timeout=15)
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            return response.status, response.headers, response.read().decode("utf-8", "replace")
        finally:
            connection.close()


def cookies(headers):
    jar = {}
    for line in headers.get_all("Set-Cookie") or []:
        parsed = http.cookies.SimpleCookie()
        parsed.load(line)
        for name, morsel in parsed.items():
            jar[name] = (morsel.value, line)
    return jar


def check_cookie(checks, what, line):
    attributes = {part.strip().split("=")[0].lower() for part in line.split(";")[1:]}
    wanted = {"secure", "httponly", "samesite", "path"}
    fine = wanted <= attributes and "domain" not in attributes and "samesite=lax" in line.lower()
    checks.append((what, fine, line.split(";", 1)[1].strip()))


def proxy_checks(client, password):
    """What the scanner does not look at: a few more answers, and a sign-in over TLS."""
    checks = []

    status, headers, _ = client.request("GET", "/sources/?page=2", tls=False)
    location = headers.get("Location", "")
    checks.append(
        (
            "http → https keeps the path",
            status == 301 and location == f"https://{HOST}/sources/?page=2",
            f"{status} → {location}",
        )
    )

    for path, wanted_status in (("/api/v1/statements/", 200), ("/admin/login/", 200)) + (
        ("/no-such-page/", 404),
    ):
        status, headers, _ = client.request("GET", path, headers={"Accept": "*/*"})
        missing = [name for name in EVERY_ANSWER if not headers.get(name)]
        checks.append(
            (
                f"GET {path}: {wanted_status}, with every security header",
                status == wanted_status and not missing,
                f"{status}" + (f"; missing {', '.join(missing)}" if missing else ""),
            )
        )

    status, headers, page = client.request("GET", "/admin/login/")
    jar = cookies(headers)
    csrf = jar.get("__Host-csrftoken")
    checks.append(("the CSRF cookie is __Host-csrftoken", bool(csrf), ", ".join(jar) or "none"))
    if csrf:
        check_cookie(
            checks, "__Host-csrftoken: Secure, HttpOnly, SameSite=Lax, no Domain", csrf[1]
        )
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    if not (csrf and token):
        checks.append(("an admin sign-in over TLS", False, "no CSRF token to send"))
        return checks
    body = urllib.parse.urlencode(
        {
            "csrfmiddlewaretoken": token.group(1),
            "username": "observatory",
            "password": password,
            "next": "/admin/",
        }
    )
    status, headers, _ = client.request(
        "POST",
        "/admin/login/?next=/admin/",
        body=body,
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"__Host-csrftoken={csrf[0]}",
            "Origin": f"https://{HOST}",
            "Referer": f"https://{HOST}/admin/login/",
        },
    )
    session = cookies(headers).get("__Host-sessionid")
    location = headers.get("Location", "")
    checks.append(
        (
            "an admin sign-in over TLS: the password is taken (CSRF passes)",
            status == 302 and bool(session) and location == "/admin/",
            f"{status} → {location or 'nowhere'}",
        )
    )
    if not session:
        return checks
    check_cookie(checks, "__Host-sessionid: Secure, HttpOnly, SameSite=Lax, no Domain", session[1])
    status, headers, _ = client.request(
        "GET", "/admin/", headers={"Cookie": f"__Host-sessionid={session[0]}"}
    )
    location = headers.get("Location", "")
    checks.append(
        (
            "the session holds over TLS, and asks for the second factor",
            status == 302 and location.startswith("/account/mfa/setup/"),
            f"{status} → {location or 'nowhere'}",
        )
    )
    return checks


# The scanner


def scan(ca):
    preload = SCANNER / "conf" / "hsts-preload.json"
    if not (SCANNER / "src" / "scan.js").exists():
        raise Failure("The scanner is not installed: run `make observatory`, which installs it.")
    if not preload.exists() or json.loads(preload.read_text()) != {}:
        preload.write_text("{}\n")
    completed = subprocess.run(
        ["node", "src/scan.js", HOST],
        cwd=SCANNER,
        env={**os.environ, "NODE_EXTRA_CA_CERTS": str(ca)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    try:
        result = json.loads(completed.stdout)
    except json.JSONDecodeError:
        raise Failure(
            f"The scanner printed no result (exit {completed.returncode}):\n"
            f"{completed.stdout}\n{completed.stderr}"
        ) from None
    if "error" in result:
        raise Failure(f"The scanner could not scan: {result['error']}")
    return result


# The report


def versions():
    nginx = subprocess.run(["nginx", "-v"], capture_output=True, text=True).stderr.strip()
    node = run(["node", "--version"]).stdout.strip()
    scanner = json.loads((SCANNER / "package.json").read_text())["version"]
    return {
        "nginx": nginx.removeprefix("nginx version: "),
        "node": node,
        "scanner": f"@mdn/mdn-http-observatory {scanner}",
    }


def render(result, checks, started, seconds):
    summary = result["scan"]
    passed = verdict(result, checks)
    lines = [
        "# MDN HTTP Observatory",
        "",
        f"Run on {started:%Y-%m-%d %H:%M} UTC with `make observatory` (bench/observatory.py), "
        f"in {seconds:.0f} s. Machine: {machine()}.",
        "",
        "The app with its production settings (DEBUG off), served by gunicorn on loopback "
        "behind nginx with the project's deploy/nginx/arms-talks.conf: TLS on 127.0.0.1:443 "
        "with a throwaway local CA, and http on 127.0.0.1:80 redirected to https. The "
        "scanner's src/scan.js scanned `localhost` with NODE_EXTRA_CA_CERTS naming that CA "
        "and an empty HSTS preload list (`{}`), so no preload bonus counts. "
        + ", ".join(f"{name}: {value}" for name, value in versions().items())
        + f"; scoring algorithm version {summary['algorithmVersion']}.",
        "",
        f"**Grade {summary['grade']}, score {summary['score']}** (target: A+ with at least "
        f"{PASSING_SCORE}), {summary['testsPassed']} of {summary['testsQuantity']} tests "
        f"passed. Verdict: **{'passed' if passed else 'FAILED'}**.",
        "",
        "| Test | Passed | Result | Score modifier |",
        "|---|---|---|---|",
    ]
    for name, test in result["tests"].items():
        lines.append(
            f"| {name} | {'yes' if test['pass'] else '**no**'} | {test['result']} "
            f"| {test['scoreModifier']:+d} |"
        )
    lines += [
        "",
        "## Through the proxy, beyond the scanner",
        "",
        "The scanner looks at `/` only; these answers came through the same nginx.",
        "",
        "| Check | Passed | Seen |",
        "|---|---|---|",
    ]
    for what, fine, seen in checks:
        lines.append(f"| {what} | {'yes' if fine else '**no**'} | `{seen}` |")
    lines += [
        "",
        "## The headers of `/`, as the scanner received them",
        "",
        "| Header | Value |",
        "|---|---|",
    ]
    for name, value in sorted(summary["responseHeaders"].items()):
        if name in ("date", "content-length"):
            continue
        shown = str(value).replace("|", "\\|")
        lines.append(f"| {name} | `{shown}` |")
    return "\n".join(lines) + "\n"


def verdict(result, checks):
    summary = result["scan"]
    return (
        summary["grade"] == "A+"
        and summary["score"] >= PASSING_SCORE
        and summary["testsFailed"] == 0
        and all(fine for _, fine, _ in checks)
    )


def stop(process):
    """Stop a server this run started: politely, then for good."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def stop_on_sigterm(signum, frame):
    # A CI timeout sends SIGTERM: leave through the same cleanup as Ctrl-C, so that no
    # nginx is left holding ports 80 and 443.
    raise SystemExit(f"make observatory was stopped (signal {signum}).")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "observatory.md"))
    args = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("make observatory serves on ports 80 and 443, as the scanner needs: run as root.")
    for tool in ("nginx", "node", "openssl", "ss"):
        if not shutil.which(tool):
            sys.exit(f"{tool} is missing; make observatory installs nginx, not {tool}.")
    started_at = datetime.datetime.now(datetime.UTC)
    started = time.monotonic()
    folder = Path(tempfile.mkdtemp(prefix="arms-talks-observatory-"))
    folder.chmod(0o755)  # nginx's workers run as nobody and write their temp files here
    app = proxy = None
    signal.signal(signal.SIGTERM, stop_on_sigterm)
    try:
        ports_free()
        ca, certificate, key = make_certificates(folder)
        log("Serving the app (production settings) behind nginx with TLS…")
        port = free_port()
        app, password = serve_app(folder, port)
        proxy = start_nginx(folder, nginx_config(folder, port, certificate, key))
        client = Client(ca)
        try:
            wait_for(f"https://{HOST}/", timeout=60, context=client.context)
        except OSError as error:
            raise Failure(f"The app did not answer through nginx in a minute: {error}") from None
        log("Scanning https://localhost/ with MDN's HTTP Observatory…")
        result = scan(ca)
        checks = proxy_checks(client, password)
    except (Failure, OSError, subprocess.SubprocessError, KeyError) as error:
        details = [getattr(error, "stderr", "") or ""]
        for name in ("gunicorn.log", "nginx-error.log"):
            if (folder / name).exists() and (folder / name).stat().st_size:
                tail = (folder / name).read_text(errors="replace").splitlines()[-20:]
                details.append(f"The end of {name}:\n" + "\n".join(tail))
        sys.exit(f"make observatory could not run: {error}\n" + "\n".join(details).strip())
    finally:
        for process in (proxy, app):
            stop(process)
        shutil.rmtree(folder, ignore_errors=True)
    report = render(result, checks, started_at, time.monotonic() - started)
    Path(args.out).write_text(report)
    print(report)
    if not verdict(result, checks):
        sys.exit("The Observatory run failed: see the report above.")


if __name__ == "__main__":
    main()
