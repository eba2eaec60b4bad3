"""The worker: real jobs done by real worker processes on real Valkey/Redis."""
import signal
import subprocess
import sys
import time

import redis
from conftest import PASSWORD, login, subprocess_env
from rq import Queue

from webapp import create_app
from webapp.accounts import create_account, create_user
from webapp.config import load_settings
from webapp.models import Heartbeat
from factories import new_stream


def wait_for(predicate, timeout: float = 30, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {predicate.__doc__ or predicate}")


def start_worker(environ, redis_url, cwd, *args):
    return subprocess.Popen([sys.executable, "-m", "worker", *args], cwd=cwd,
                            env=subprocess_env(environ, REDIS_URL=redis_url),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def test_enqueued_job_is_done_by_a_worker_process(app, db, clean_redis, environ, tmp_path):
    job = Queue("default", connection=redis.Redis.from_url(clean_redis)).enqueue(
        "webapp.jobs.heartbeat", "from-test", job_id="heartbeat-from-test")
    worker = start_worker(environ, clean_redis, tmp_path, "--burst", "--no-cron")
    output, _ = worker.communicate(timeout=60)
    assert worker.returncode == 0, output
    job.refresh()
    assert job.get_status() == "finished", output
    beat = Heartbeat.get(Heartbeat.name == "from-test")
    assert job.return_value() == beat.ran_at.isoformat()


def test_cron_heartbeat_and_status_page(app, db, clean_redis, environ, tmp_path):
    worker = start_worker(environ, clean_redis, tmp_path, "--heartbeat-interval", "1")
    try:
        def heartbeat_recorded():
            """the scheduler's heartbeat in the database"""
            return Heartbeat.get_or_none(Heartbeat.name == "scheduler")

        wait_for(heartbeat_recorded, timeout=40)
        status_app = create_app(load_settings({**environ, "REDIS_URL": clean_redis}))
        create_user(create_account("Ops"), "ops@acme.test", PASSWORD, "admin")
        client = status_app.test_client()
        login(client, "ops@acme.test")
        html = client.get("/account/status").get_data(as_text=True)
        assert "Last heartbeat:" in html and "The scheduler has not run yet" not in html
        assert "No worker has been seen" not in html and "<td>default</td>" in html
        partial = client.get("/account/status", headers={"HX-Request": "true"}).get_data(as_text=True)
        assert partial.lstrip().startswith('<section id="status-section"')
    finally:
        worker.send_signal(signal.SIGTERM)
        output, _ = worker.communicate(timeout=30)
    assert worker.returncode == 0, output
    assert "Traceback" not in output


def test_worker_without_a_queue_says_what_to_do(environ, tmp_path):
    env = subprocess_env(environ)
    out = subprocess.run([sys.executable, "-m", "worker", "--burst"], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 1
    assert "REDIS_URL is not set" in out.stderr and "Traceback" not in out.stderr


def test_worker_with_unreachable_redis_says_so(environ, tmp_path):
    out = subprocess.run([sys.executable, "-m", "worker", "--burst"], cwd=tmp_path, timeout=60,
                         env=subprocess_env(environ, REDIS_URL="redis://127.0.0.1:1/0"),
                         capture_output=True, text=True)
    assert out.returncode == 1
    assert "cannot reach Redis at redis://127.0.0.1:1/0" in out.stderr and "Traceback" not in out.stderr


def test_status_page_reports_an_unreachable_queue(environ, db):
    status_app = create_app(load_settings({**environ, "REDIS_URL": "redis://127.0.0.1:1/0"}))
    create_user(create_account("Ops"), "ops@acme.test", PASSWORD, "admin")
    client = status_app.test_client()
    login(client, "ops@acme.test")
    response = client.get("/account/status")
    assert response.status_code == 200
    assert "cannot reach Redis at redis://127.0.0.1:1/0" in response.get_data(as_text=True)


def test_cron_crawls_streams_that_are_due(app, db, clean_redis, environ, tmp_path, emulator):
    from webapp.models import Stream, Topic

    topic = Topic.create(account=create_account("Due"), name="Rivals")
    stream = new_stream(topic, service="facebook", page_id="101938475620394",
                           name="Globex Coffee Company", status="queued")
    worker = start_worker(environ, clean_redis, tmp_path, "--due-interval", "1")
    try:
        def crawled():
            """the stream crawled by the schedule"""
            return Stream.get_by_id(stream.id).status == "active"

        wait_for(crawled, timeout=60)
    finally:
        worker.send_signal(signal.SIGTERM)
        output, _ = worker.communicate(timeout=90)  # a warm shutdown lets the crawl at hand finish
    fresh = Stream.get_by_id(stream.id)
    assert fresh.next_crawl_at > fresh.last_crawled_at  # the next crawl is planned
    assert "Traceback" not in output
