"""Every page names its icon, which the app serves itself (no browser asks /favicon.ico)."""

from __future__ import annotations

import re


def test_pages_name_an_icon_the_app_serves(client, city):
    page = client.get("/").get_data(as_text=True)
    [href] = re.findall(r'<link rel="icon" href="([^"]+)" type="image/svg\+xml">', page)
    with client.get(href) as icon:  # a static file's response holds the file open
        assert icon.status_code == 200
        assert icon.mimetype == "image/svg+xml"
        assert icon.data.lstrip().startswith(b"<svg")
