"""Sandbox mode registers each emulator's OAuth callback URL from PUBLIC_URL, and the
emulators refuse any other as Facebook and X do: a wrong PUBLIC_URL fails in sandbox mode
as it would in production, and Account settings → Status says why."""
from __future__ import annotations

import os

import requests
from conftest import TEST_PUBLIC_URL

from webapp import sandbox
from webapp.sandbox import CALLBACK_PATH, callback_url

WRONG_PUBLIC_URL = "http://127.0.0.1:5000"  # the default, while people open http://localhost


def test_callback_path_is_the_route(app):
    from flask import url_for

    with app.test_request_context():
        for service in ("facebook", "twitter"):
            assert url_for("personal.callback", service=service) == CALLBACK_PATH.format(service=service)


def test_sandbox_registers_the_callbacks_of_public_url():
    saved = dict(os.environ)
    try:
        running = sandbox.start_emulators(["facebook", "twitter"], "https://desk.example.org/")
    finally:
        os.environ.clear()
        os.environ.update(saved)
    try:
        for emulator in running:
            registered = requests.get(f"{emulator.url}/_control/app", timeout=5).json()["redirect_uris"]
            assert registered == [f"https://desk.example.org/personal/connected-profiles/{emulator.service}/callback"]
    finally:
        for emulator in running:
            emulator.stop()


def test_matching_public_url_shows_no_setup_problem(admin_client, emulator):
    html = admin_client.get("/account/status").get_data(as_text=True)
    assert "No setup problems found." in html


def test_wrong_public_url_fails_to_connect_and_status_says_why(admin_client, emulator):
    """Facebook answers an unregistered redirect_uri with its "URL Blocked" page and X with
    its error page (see tests/facebook/test_fidelity_redirect.py and
    tests/twitter/test_fidelity_redirect.py for the sources)."""
    for service in ("facebook", "twitter"):
        emulator(service, "PUT", "/app", redirect_uris=[callback_url(WRONG_PUBLIC_URL, service)])
    facebook = admin_client.get("/personal/connected-profiles/facebook/connect")
    assert f"redirect_uri={requests.utils.quote(TEST_PUBLIC_URL, safe='')}" in facebook.headers["Location"]
    page = requests.get(facebook.headers["Location"], timeout=10)
    assert page.status_code == 400 and "URL Blocked" in page.text
    twitter = requests.get(admin_client.get("/personal/connected-profiles/twitter/connect").headers["Location"],
                           timeout=10)
    assert twitter.status_code == 400 and "Something went wrong" in twitter.text
    html = admin_client.get("/account/status").get_data(as_text=True)
    for label, service in (("Facebook", "facebook"), ("X (Twitter)", "twitter")):
        assert f"{label}: connecting a profile will fail" in html
        assert f"{TEST_PUBLIC_URL}/personal/connected-profiles/{service}/callback" in html
        assert callback_url(WRONG_PUBLIC_URL, service) in html
    assert "Set PUBLIC_URL to the address you open Streamdesk at" in html
