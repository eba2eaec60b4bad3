"""Rate-limit pauses shared by every job and worker, kept in Redis/Valkey.

When a provider tells one job to slow down, no other job (a crawl, a metrics refresh,
another stream on the same token) calls that service with that token until the reset:
RQ forks a process per job, so a plugin's own memory of the limit dies with each job.
A pause has a scope: one token of a service (the default), or the whole service (a
limit on the app itself, e.g. Graph's code 4). Without a queue server (a crawl run by
hand) nothing is shared and the provider's own answer is the only guard.
"""
from __future__ import annotations

import datetime
import hashlib
import logging
import time

import redis

from streamdesk_contract.errors import RateLimited
from streamdesk_contract.values import Credentials

log = logging.getLogger(__name__)

PREFIX = "streamdesk:pause"

#: Set a pause unless a longer one is set already, in one step on the server: two jobs
#: meeting limits at once can never shorten each other's pause (a read, then a set,
#: could). KEYS[1]: the pause; ARGV: its end (Unix time), its lifetime in seconds.
LONGEST = """
local current = tonumber(redis.call('GET', KEYS[1]))
if current and current >= tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return 1
"""


def scopes(service: str, credentials: Credentials | None) -> dict[str, str]:
    """The Redis keys of the pauses that apply to a call: the whole service's, and the
    token's (calls without a person's token share the app's). A token is named by a
    hash, never in clear."""
    token = credentials.access_token if credentials is not None else None
    whose = hashlib.sha256(token.encode()).hexdigest()[:24] if token else "app"
    return {"service": f"{PREFIX}:{service}", "token": f"{PREFIX}:{service}:{whose}"}


class Pauses:
    """Read and set pauses; a client of None (no queue server) shares nothing."""

    def __init__(self, client: redis.Redis | None):
        self.client = client
        self._longest = client.register_script(LONGEST) if client is not None else None

    def check(self, keys: dict[str, str], label: str) -> None:
        """Raise RateLimited while any of ``keys`` is paused."""
        if self.client is None:
            return
        try:
            untils = [float(v) for v in self.client.mget(list(keys.values())) if v is not None]
        except (redis.RedisError, OSError) as exc:
            log.warning("cannot read rate-limit pauses: %s", exc)
            return
        wait = max(untils, default=0.0) - time.time()
        if wait > 0:
            at = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=wait)
            raise RateLimited(wait, f"Waiting for {label}'s rate limit until {at:%H:%M} UTC.")

    def record(self, keys: dict[str, str], error: RateLimited) -> None:
        """Pause the scope ``error`` names for its ``retry_after`` seconds (a longer pause
        already set stays)."""
        scope = getattr(error, "scope", "token")
        if self.client is None or error.retry_after <= 0 or scope not in keys:
            return
        key = keys[scope]
        until = time.time() + error.retry_after
        try:
            self._longest(keys=[key], args=[repr(until), max(1, int(error.retry_after) + 1)])
        except (redis.RedisError, OSError) as exc:
            log.warning("cannot record a rate-limit pause: %s", exc)
