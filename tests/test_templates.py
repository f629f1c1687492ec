"""Pages carry no inline style or script: the Content-Security-Policy would block them."""

from __future__ import annotations

import re
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parents[1] / "app" / "templates"
# emails are read in mail clients, where inline styles are the only styles that work
PAGE_TEMPLATES = [p for p in TEMPLATES.rglob("*.html") if "notifications" not in p.parts]


def test_no_page_template_has_inline_style_or_script():
    offenders = []
    for path in PAGE_TEMPLATES:
        text = path.read_text()
        if re.search(r"\sstyle=\"|<style\b|<script(?![^>]*\bsrc=)|\son[a-z]+=\"", text):
            offenders.append(str(path.relative_to(TEMPLATES)))
    assert PAGE_TEMPLATES and offenders == []
