"""axe-core (from npm: tests/browser/package.json, installed by scripts/test.sh) run in
the page under test.

How axe gets into the page: the page's Content-Security-Policy allows scripts from our own
origin only, so `page.add_script_tag(content=...)` (an inline script) is refused, and
`add_script_tag(path=...)` is inline too. Playwright's `page.evaluate` runs through the
DevTools protocol, which CSP does not govern, so we evaluate the file's text there (or,
for many pages in one browser context, `context.add_init_script(script=axe_source())`,
injected the same way into every new document). The
page keeps its real CSP (no `bypass_csp`), so what axe sees is what a person gets: a style
the CSP blocks stays blocked.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

AXE_PATH = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"

# WCAG 2.2 AA and everything below it (axe tags each rule with the levels it checks).
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
FAILING_IMPACTS = frozenset({"serious", "critical"})


@dataclass(frozen=True)
class AxeViolation:
    rule: str
    impact: str
    help: str
    targets: tuple[str, ...]

    def __str__(self) -> str:
        shown = ", ".join(self.targets[:5])
        more = f" (+{len(self.targets) - 5} more)" if len(self.targets) > 5 else ""
        return f"axe {self.impact} {self.rule}: {self.help} — {shown}{more}"


@cache
def axe_source() -> str:
    if not AXE_PATH.exists():
        raise FileNotFoundError(
            f"{AXE_PATH} is missing: run ./scripts/test.sh (it runs npm ci in tests/browser) "
            "or `npm ci --prefix tests/browser`."
        )
    return AXE_PATH.read_text(encoding="utf-8")


def inject_axe(page) -> None:
    """Load axe into the current document (once per document)."""
    if page.evaluate("() => typeof window.axe === 'object'"):
        return
    # Wrapped in a function so Playwright runs the whole file as a statement list.
    page.evaluate("() => {\n" + axe_source() + "\n}")
    if not page.evaluate("() => typeof window.axe === 'object'"):
        raise RuntimeError("axe-core did not load into the page")


def axe_violations(page, *, impacts: frozenset[str] = FAILING_IMPACTS) -> list[AxeViolation]:
    """The page's WCAG 2.2 AA violations of the given impacts (serious and critical by
    default), as axe-core reports them."""
    inject_axe(page)
    raw = page.evaluate(
        """async (tags) => {
            const results = await axe.run(document, {runOnly: {type: 'tag', values: tags},
                                                     resultTypes: ['violations']});
            return results.violations.map((v) => ({
                rule: v.id, impact: v.impact || '', help: v.help,
                targets: v.nodes.map((n) => n.target.join(' ')),
            }));
        }""",
        WCAG_TAGS,
    )
    return [
        AxeViolation(rule=v["rule"], impact=v["impact"], help=v["help"],
                     targets=tuple(v["targets"]))
        for v in raw
        if v["impact"] in impacts
    ]
