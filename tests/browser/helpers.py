"""Helpers for browser tests: accessibility (axe-core), small-screen layout, logging in."""

from pathlib import Path

from django.conf import settings
from django.test import Client

from tests.accounts import sign_in

AXE_JS = Path(__file__).resolve().parent.parent / "js" / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa"]
PHONE_WIDTH = 375


def axe_violations(page, *, tags=AXE_TAGS):
    """Run axe-core on the page as it is now; return its violations (a list of dicts with
    ``id``, ``impact``, ``help``, ``helpUrl`` and ``nodes``), ``[]`` when there are none.

    The script is evaluated through the DevTools protocol, which the page's strict
    Content-Security-Policy does not govern (an injected <script> would be refused)."""
    if not AXE_JS.exists():
        raise RuntimeError(f"{AXE_JS} is missing: run `make browser-deps` (or `make test`).")
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE_JS.read_text())
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", list(tags)
    )
    return result["violations"]


def format_violations(violations):
    """One readable block per violation: id, impact, what is wrong, and where."""
    lines = []
    for violation in violations:
        lines.append(
            f"{violation['id']} ({violation['impact']}): {violation['help']}"
            f" <{violation['helpUrl']}>"
        )
        for node in violation["nodes"]:
            lines.append(f"    at {' '.join(map(str, node['target']))}: {node['html'][:200]}")
    return "\n".join(lines)


def assert_no_axe_violations(page, *, tags=AXE_TAGS):
    violations = axe_violations(page, tags=tags)
    assert not violations, f"{page.url} has axe violations:\n{format_violations(violations)}"


def assert_no_horizontal_scroll(page, *, width=PHONE_WIDTH):
    """Resize the viewport to ``width`` CSS pixels (375: a small phone) and assert that the
    page does not scroll sideways. The message names the elements that stick out."""
    height = (page.viewport_size or {}).get("height", 812)
    page.set_viewport_size({"width": width, "height": height})
    widths = page.evaluate(
        """() => {
            const root = document.documentElement;
            const tooWide = [];
            for (const el of document.body ? document.body.querySelectorAll('*') : []) {
                const box = el.getBoundingClientRect();
                if (box.right > window.innerWidth + 0.5 && tooWide.length < 10) {
                    const id = el.id ? '#' + el.id : '';
                    const cls = typeof el.className === 'string' && el.className.trim()
                        ? '.' + el.className.trim().split(/\\s+/).join('.') : '';
                    const right = Math.round(box.right);
                    tooWide.push(`${el.tagName.toLowerCase()}${id}${cls} (right edge ${right})`);
                }
            }
            return {scrollWidth: root.scrollWidth, innerWidth: window.innerWidth, tooWide};
        }"""
    )
    assert widths["scrollWidth"] <= widths["innerWidth"], (
        f"{page.url} scrolls sideways at {width} px: scrollWidth {widths['scrollWidth']}"
        f" > innerWidth {widths['innerWidth']}; elements past the right edge: "
        + ("; ".join(widths["tooWide"]) or "none found (check ::before/::after or margins)")
    )


def log_in(page, user, live_server):
    """Log ``user`` in for this page's browser context without going through a login form
    (a session made by Django's test client, handed over as the session cookie)."""
    client = Client()
    sign_in(client, user)
    page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
