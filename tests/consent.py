"""The emulators' consent pages, driven over HTTP as a browser would (no JavaScript)."""
from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urljoin

import requests


class ConsentForm(HTMLParser):
    """Fields, ticked checkboxes, select options and buttons of the first form."""

    def __init__(self):
        super().__init__()
        self.action, self.fields, self.boxes, self.options, self.buttons = "", [], [], {}, []
        self.chosen = {}
        self._select = self._button = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and not self.action:
            self.action = a.get("action", "")
        elif tag == "input" and a.get("name"):
            if a.get("type") == "checkbox":
                self.boxes.append((a["name"], a.get("value", "on"), "checked" in a))
            else:
                self.fields.append((a["name"], a.get("value", "")))
        elif tag == "select":
            self._select = a["name"]
            self.options[self._select] = []
        elif tag == "option" and self._select:
            self.options[self._select].append(a["value"])
            if "selected" in a or len(self.options[self._select]) == 1:
                self.chosen[self._select] = a["value"]
        elif tag == "button":
            self._button = (a.get("name"), a.get("value"))

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None

    def handle_data(self, data):
        if self._button and data.strip():
            self.buttons.append((data.strip(), *self._button))
            self._button = None


def press(authorize_url: str, button: str, untick=(), select: dict | None = None) -> str:
    """Open the consent page, untick permissions, press ``button``; returns the redirect."""
    browser = requests.Session()
    page = browser.get(authorize_url, timeout=10)
    assert page.status_code == 200, page.text
    form = ConsentForm()
    form.feed(page.text)
    data = list(form.fields)
    data += [(name, value) for name, value, checked in form.boxes if checked and value not in untick]
    for name, value in {**form.chosen, **(select or {})}.items():
        assert value in form.options[name], f"{value} not offered in {name}: {form.options[name]}"
        data.append((name, value))
    _label, name, value = next(b for b in form.buttons if b[0] == button)
    data.append((name, value))
    response = browser.post(urljoin(authorize_url, form.action), data=data, allow_redirects=False, timeout=10)
    assert response.status_code in (302, 303), response.text
    return response.headers["Location"]
