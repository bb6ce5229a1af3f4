"""Accessibility and phone checks shared by the board's and the app's browser tests: axe-core
(bundled in axe-playwright-python, nothing downloaded) for WCAG 2.1 AA, the page's width on a
390 px phone, and a full-page screenshot kept under ``var/screenshots/phone/``."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

SCREENSHOTS = Path(__file__).resolve().parents[1] / "var" / "screenshots" / "phone"
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2}
WCAG_21_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}
SEVERE = ("serious", "critical")


def _axe_script() -> str:
    import axe_playwright_python

    return (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text()


def severe_violations(results: dict[str, Any]) -> list[str]:
    """Each serious or critical violation as ``rule: target`` (what a reader of a failure needs)."""
    return [
        f"{v['id']} ({v['impact']}): {', '.join(str(n['target']) for n in v['nodes'][:3])}"
        for v in results["violations"]
        if v.get("impact") in SEVERE
    ]


def shot_name(path: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", path).strip("-") or "root"


def check_sync(page: Any, name: str) -> list[str]:
    """On a loaded phone-sized page (sync Playwright): no wider than the screen, screenshot
    kept, and the serious or critical axe violations returned."""
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, name
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{shot_name(name)}.png"), full_page=True)
    page.evaluate(_axe_script())
    return severe_violations(page.evaluate("o => axe.run(document, o)", WCAG_21_AA))


async def check_async(page: Any, name: str) -> list[str]:
    """The same as :func:`check_sync` for async Playwright."""
    assert await page.evaluate("document.documentElement.scrollWidth") <= 390, name
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / f"{shot_name(name)}.png"), full_page=True)
    await page.evaluate(_axe_script())
    return severe_violations(await page.evaluate("o => axe.run(document, o)", WCAG_21_AA))
