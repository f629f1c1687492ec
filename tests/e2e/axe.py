"""axe-core in the browser tests: inject the vendored copy into a page and read its violations.

axe-core (tests/e2e/vendor, see its README) is test-only: the app never serves it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import Page

AXE_SOURCE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
#: the impacts a page may not have: axe's "serious" and "critical"
BLOCKING = ("serious", "critical")

# Runtime.evaluate is not subject to the page's Content-Security-Policy, which refuses
# inline scripts (and so a script tag of axe's source)
_RUN = """async (impacts) => {
  const results = await axe.run(document, { resultTypes: ["violations"] });
  return results.violations
    .filter((v) => impacts.includes(v.impact))
    .map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.slice(0, 5).map((n) => n.target.join(" ") + " :: " + n.failureSummary),
    }));
}"""


def axe_violations(page: Page, impacts: tuple[str, ...] = BLOCKING) -> list[dict[str, Any]]:
    """Run axe-core on the page as it is now; return its violations of these impacts."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE_SOURCE.read_text(encoding="utf-8"))
    return list(page.evaluate(_RUN, list(impacts)))


def describe(found: dict[str, list[dict[str, Any]]]) -> str:
    """Say the violations of each page, one rule a line with the elements that break it."""
    lines = []
    for where, violations in found.items():
        for v in violations:
            lines.append(f"{where}: [{v['impact']}] {v['id']}: {v['help']}")
            lines += [f"    {node}" for node in v["nodes"]]
    return "\n".join(lines)
