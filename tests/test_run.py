"""`streamdesk run`: the whole embedded stack in one process group, started and stopped."""
import subprocess
import time

import requests

from conftest import STREAMDESK, subprocess_env
from stack import Run, free_port, log_in, processes_with, wait_until_gone

from webapp.config import load_settings


def test_run_starts_everything_and_ctrl_c_stops_it(environ, tmp_path):
    run = Run(environ, tmp_path)
    try:
        run.wait_for(r"Streamdesk is running on http://127\.0\.0\.1:\d+ \(sandbox mode\)")
        password = run.wait_for(r"password: (\S+)").group(1)
        session = log_in(run.url, "admin@example.com", password)

        def status():
            return session.get(f"{run.url}/account/status").text

        deadline = time.monotonic() + 40
        while "Last heartbeat:" not in status() or "No worker has been seen" in status():
            assert time.monotonic() < deadline, status()
            time.sleep(0.5)
    finally:
        code = run.interrupt()
    assert code == 0, "".join(run.output)
    # Worker, cron, the Valkey helper and valkey-server: all gone, whatever their session.
    wait_until_gone(f"STREAMDESK_INSTANCE={environ['STREAMDESK_INSTANCE']}")
    assert "Traceback" not in "".join(run.output)

    # A second run reuses the instance folder and keeps the data.
    again = Run(environ, tmp_path)
    try:
        again.wait_for("Streamdesk is running on")
        assert not any("Created the first account" in line for line in again.output)
        log_in(again.url, "admin@example.com", password)
    finally:
        assert again.interrupt() == 0


def test_sigterm_stops_everything(environ, tmp_path):
    import os
    import signal

    run = Run(environ, tmp_path)
    run.wait_for("Streamdesk is running on")
    marker = f"STREAMDESK_INSTANCE={environ['STREAMDESK_INSTANCE']}"
    deadline = time.monotonic() + 30
    # runner, worker, its cron child, the Valkey helper and valkey-server
    while len(processes_with(marker)) < 5:
        assert time.monotonic() < deadline, processes_with(marker)
        time.sleep(0.2)
    os.kill(run.proc.pid, signal.SIGTERM)  # a process manager signals the runner alone
    assert run.proc.wait(timeout=60) == 0
    wait_until_gone(marker)
    assert "Traceback" not in run.log()


def test_first_admin_from_the_environment(environ, tmp_path):
    run = Run(environ, tmp_path, ADMIN_EMAIL="Boss@Team.test", ADMIN_PASSWORD="a long admin secret")
    try:
        run.wait_for("Created the first account and its admin: boss@team.test")
        run.wait_for("Streamdesk is running on")
        assert not any("password:" in line for line in run.output)
        assert "a long admin secret" not in "".join(run.output)
        log_in(run.url, "boss@team.test", "a long admin secret")
    finally:
        run.interrupt()


def test_run_with_unreachable_redis_fails_with_a_clear_message(environ, tmp_path):
    out = subprocess.run([STREAMDESK, "run"], cwd=tmp_path, capture_output=True, text=True, timeout=60,
                         env=subprocess_env(environ, REDIS_URL="redis://127.0.0.1:1/0", PORT=str(free_port())))
    assert out.returncode == 1
    assert "Error: cannot reach Redis at redis://127.0.0.1:1/0" in out.stderr
    assert "Traceback" not in out.stderr + out.stdout


def test_run_with_malformed_database_url_fails_with_a_clear_message(environ, tmp_path):
    out = subprocess.run([STREAMDESK, "run"], cwd=tmp_path, capture_output=True, text=True, timeout=60,
                         env=subprocess_env(environ, DATABASE_URL="postgresql://nobody@127.0.0.1:1/none"))
    assert out.returncode == 1
    assert out.stderr.startswith("Error: cannot open the database:")
    assert "Traceback" not in out.stderr


def test_users_create_command(environ, tmp_path):
    def create(*args):
        return subprocess.run([STREAMDESK, "users", "create", *args], cwd=tmp_path, capture_output=True,
                              text=True, env=subprocess_env(environ), timeout=60)

    out = create("--email", "ann@team.test", "--password", "a long password", "--admin", "--account", "Team")
    assert out.returncode == 0 and "created admin ann@team.test in account 'Team'" in out.stdout
    out = create("--email", "ann@team.test", "--password", "a long password")
    assert out.returncode == 1 and "A user with the e-mail ann@team.test already exists." in out.stderr
    out = create("--email", "bob@team.test", "--password", "short")
    assert out.returncode == 1 and "at least 10 characters" in out.stderr


def test_users_reset_password_command(environ, tmp_path):
    def cli(*args):
        return subprocess.run([STREAMDESK, "users", *args], cwd=tmp_path, capture_output=True,
                              text=True, env=subprocess_env(environ), timeout=60)

    assert cli("create", "--email", "ann@team.test", "--password", "a long password", "--admin").returncode == 0
    out = cli("reset-password", "Ann@Team.test")
    assert out.returncode == 0 and "Every session of this user has been ended." in out.stdout
    new = out.stdout.split("new password for ann@team.test: ")[1].split()[0]
    from webapp.accounts import authenticate
    from webapp.db import open_database

    with open_database(load_settings(environ).database_url).connection_context():
        assert authenticate("ann@team.test", new, "127.0.0.1").email == "ann@team.test"
    out = cli("reset-password", "nobody@team.test")
    assert out.returncode == 1 and "There is no user with the e-mail nobody@team.test." in out.stderr
    out = cli("reset-password", "ann@team.test", "--password", "short")
    assert out.returncode == 1 and "at least 10 characters" in out.stderr and "Traceback" not in out.stderr


def test_first_run_ends_with_the_url_and_credentials_in_a_box(environ, tmp_path):
    run = Run(environ, tmp_path)
    try:
        run.wait_for("└")
        output = "".join(run.output)
    finally:
        run.interrupt()
    box = output[output.index("┌"):output.index("┘") + 1].splitlines()
    assert box[0].startswith("┌─") and box[-1].startswith("└─") and all(line.startswith("│ ") for line in box[1:-1])
    assert "Streamdesk is running on http://127.0.0.1:" in box[1] and "(sandbox mode)" in box[1]
    assert "Log in as admin@example.com" in box[2] and "password: " in box[3]
    assert len({len(line) for line in box}) == 1  # a closed frame


def test_run_serves_through_waitress_with_an_access_log(environ, tmp_path):
    run = Run(environ, tmp_path, WEB_THREADS="3")
    try:
        run.wait_for("Streamdesk is running on")
        response = requests.get(f"{run.url}/login?next=/topics", timeout=10)
        line = run.wait_for(r'"GET /login\S* HTTP/1.1" \d+ \S+').group(0)
    finally:
        run.interrupt()
    assert response.status_code == 200 and response.headers["Server"] == "waitress"
    # werkzeug's format, as before, with the size of the answer
    assert line == f'"GET /login?next=/topics HTTP/1.1" 200 {len(response.content)}', line


def test_web_serves_alone_and_queues_on_redis_url(environ, tmp_path, clean_redis):
    run = Run(environ, tmp_path, command="web", REDIS_URL=clean_redis)
    try:
        run.wait_for(r"Streamdesk is running on \S+ \(sandbox mode\) — web server only")
        password = run.wait_for(r"password: (\S+)").group(1)
        session = log_in(run.url, "admin@example.com", password)
        page = session.get(f"{run.url}/topics", timeout=10)
        assert page.headers["Server"] == "waitress"
        time.sleep(2)  # time enough for `run` to have started its worker (and Valkey)
        # Nothing but the web server itself: no worker, no cron, no embedded Valkey.
        assert processes_with(f"STREAMDESK_INSTANCE={environ['STREAMDESK_INSTANCE']}") == [run.proc.pid]
    finally:
        assert run.interrupt() == 0
    assert "Embedded Valkey" not in "".join(run.output) and "Traceback" not in "".join(run.output)


def test_web_without_redis_url_says_what_to_set(environ, tmp_path):
    out = subprocess.run([STREAMDESK, "web"], cwd=tmp_path, capture_output=True, text=True, timeout=60,
                         env=subprocess_env(environ, PORT=str(free_port())))
    assert out.returncode == 1
    assert out.stderr.startswith("Error: REDIS_URL is not set: `streamdesk web` serves the web app alone")
    assert "Traceback" not in out.stderr + out.stdout


def test_bad_web_threads_is_refused_with_a_readable_message(environ, tmp_path):
    for command in ("run", "web"):
        out = subprocess.run([STREAMDESK, command], cwd=tmp_path, capture_output=True, text=True, timeout=60,
                             env=subprocess_env(environ, WEB_THREADS="lots", PORT=str(free_port())))
        assert out.returncode == 1, out.stdout
        assert "WEB_THREADS must be a whole number of threads from 1 to 64, not 'lots'." in out.stderr
        assert "Traceback" not in out.stderr + out.stdout
