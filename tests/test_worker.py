"""The worker: real jobs done by real worker processes on real Valkey/Redis."""
import os
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


def test_the_cron_schedule_stops_quietly_however_many_signals_it_gets(environ, clean_redis, tmp_path):
    """A worker's shutdown sends its cron child several SIGTERMs (the group's, the
    worker's own, the supervisor's last sweep): the first stops it, the rest must not
    print a traceback while it ends."""
    cron = subprocess.Popen([sys.executable, "-c", f"import worker; worker.run_cron({clean_redis!r}, 1, 3600)"],
                            cwd=tmp_path, env=subprocess_env(environ, REDIS_URL=clean_redis),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        def running():
            """the cron schedule's first heartbeat job queued"""
            return Queue("default", connection=redis.Redis.from_url(clean_redis)).count

        wait_for(running, timeout=40)
        sent = 0
        while cron.poll() is None and sent < 2000:  # a burst, through the whole shutdown
            cron.send_signal(signal.SIGTERM)
            sent += 1
            time.sleep(0.001)
        output, _ = cron.communicate(timeout=30)
    finally:
        cron.kill()
    assert sent > 1, "the cron schedule ended at the first signal: nothing was tested"
    assert cron.returncode == 0, output
    assert "Traceback" not in output and "StopRequested" not in output


def test_a_worker_killed_as_its_cron_schedule_starts_leaves_nothing_behind(environ, clean_redis, tmp_path):
    """The cron schedule is a process of its own that ends with its worker, however the
    worker ends — even a SIGKILL while the schedule is still starting up — silently."""
    worker = start_worker(environ, clean_redis, tmp_path)

    def cron_child():
        """the worker's cron schedule process, just started"""
        for entry in os.listdir("/proc"):
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as fh:
                    if f"--cron-of\0{worker.pid}\0".encode() in fh.read():
                        return int(entry)
            except (OSError, ValueError):
                continue
        return None

    cron = wait_for(cron_child, timeout=60, interval=0.001)
    worker.kill()
    output, _ = worker.communicate(timeout=30)  # the cron child shares its output pipe: it ended too
    assert not os.path.exists(f"/proc/{cron}/cmdline") or not open(f"/proc/{cron}/cmdline", "rb").read()
    assert "Traceback" not in output, output


def test_worker_without_a_queue_says_what_to_do(environ, tmp_path):
    env = subprocess_env(environ)
    out = subprocess.run([sys.executable, "-m", "worker", "--burst"], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 1
    assert "REDIS_URL is not set" in out.stderr and "Traceback" not in out.stderr


def test_the_worker_parent_freezes_what_it_loaded_before_forking_jobs(environ, clean_redis, tmp_path):
    """The garbage collector of a forked job must not walk (and so copy, page by page)
    the parent's loaded plugins, modules and settings: prepare_worker freezes them."""
    script = ("import gc; from webapp.runtime import prepare_worker; before = gc.get_freeze_count(); "
              "prepare_worker(); print(before, gc.get_freeze_count())")
    out = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, timeout=60, capture_output=True, text=True,
                         env=subprocess_env(environ, REDIS_URL=clean_redis))
    assert out.returncode == 0, out.stderr
    before, after = map(int, out.stdout.split())
    assert before == 0 and after > 10_000  # the plugins, the web app's modules, peewee, RQ…


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
