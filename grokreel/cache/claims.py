"""One payment per job across machines: claims in the shared journal of the remote cache.

    journal/<key>.json   {"owner", "time", "entry"}: who pays for the job, and, the moment it
                          is known, the paid request (its id and fal URLs)

Before a submit, a machine creates the job's claim with a create-only put (``If-None-Match: *``):
exactly one machine can. The winner submits and writes the request into the claim at once. A
loser never submits: it follows the winner's request (the URLs are enough to poll it and fetch
its clip), or, when the claim is already gone, the request named by the job's receipt. A claim
with no request after ``ttl`` seconds (its holder died before submitting) is taken over by a
conditional overwrite of that exact version, so two machines cannot both take it. A claim that
names a request is never taken over: it ends only as a journal entry ends (docs/faults.md).

Owners are unique per process, so a create whose answer was lost (the put happened, the
connection dropped) and was retried is recognised as this process's own claim.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import time
import uuid
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from .tier import Tier, claim_name, receipt_name

if TYPE_CHECKING:
    from .journal import JournalEntry

__all__ = ["CLAIM_TTL", "Claims"]

CLAIM_TTL = 300.0  # seconds a claim may stay without a request id before another machine takes it
POLL = 0.5  # seconds between looks at a claim another machine holds


def _ttl() -> float:
    try:
        return float(os.environ.get("GROKREEL_CLAIM_TTL") or CLAIM_TTL)
    except ValueError:
        return CLAIM_TTL


class Claims:
    """This process's claims in ``tier`` (the remote cache)."""

    def __init__(self, tier: Tier, ttl: float | None = None, poll: float = POLL):
        self.tier = tier
        self.ttl = _ttl() if ttl is None else ttl
        self.poll = poll
        self.owner = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"

    def _body(self, entry: JournalEntry | None = None) -> bytes:
        data = {"owner": self.owner, "time": time.time(), "entry": entry and asdict(entry)}
        return json.dumps(data, sort_keys=True).encode()

    def _read(self, key: str) -> tuple[dict[str, Any], str | None] | None:
        head = self.tier.head(claim_name(key))
        raw = self.tier.read(claim_name(key)) if head else None
        try:
            data = json.loads(raw or b"")
        except ValueError:
            data = {}  # torn or foreign: treated as a claim without a request
        if raw is None or head is None:
            return None
        return (data if isinstance(data, dict) else {}), head.e_tag

    async def take(self, key: str, *, fresh: bool = True) -> JournalEntry | None:
        """None when this process now holds ``key``'s claim and may submit; else the paid
        request another machine made for it, to follow instead. With ``fresh``, a receipt (the
        job was paid and finished elsewhere) counts as such a request."""
        while True:
            entry = await asyncio.to_thread(self._step, key, fresh)
            if entry is not _WAIT:
                return entry  # type: ignore[return-value]
            await asyncio.sleep(self.poll)

    def _step(self, key: str, fresh: bool) -> JournalEntry | None | object:
        from .journal import JournalEntry

        if self.tier.write(claim_name(key), self._body(), create=True):
            return self._finished(key) if fresh else None
        found = self._read(key)
        if found is None:
            return _WAIT  # released meanwhile: look again
        data, e_tag = found
        if data.get("owner") == self.owner:
            return None
        if isinstance(data.get("entry"), dict):
            return JournalEntry.from_json(data["entry"])
        age = time.time() - float(data.get("time") or 0)
        if age > self.ttl and self.tier.write(claim_name(key), self._body(), e_tag=e_tag):
            return self._finished(key) if fresh else None
        return _WAIT

    def _finished(self, key: str) -> JournalEntry | None:
        """The request a receipt names, when another machine finished the job before this one
        claimed it (the claim just made is given back); else None."""
        from .journal import JournalEntry

        raw = self.tier.read(receipt_name(key))
        if raw is None:
            return None
        self.tier.delete(claim_name(key))
        return JournalEntry.from_json(json.loads(raw))

    def share(self, entry: JournalEntry) -> None:
        """Write the paid request into this process's claim, the moment it is known."""
        self.tier.write(claim_name(entry.key), self._body(entry))

    def settle(self, key: str, receipt: dict[str, Any]) -> None:
        """The clip is stored (and pushed): the receipt first, then the claim ends."""
        self.tier.write(receipt_name(key), json.dumps(receipt, sort_keys=True).encode())
        self.tier.delete(claim_name(key))

    def drop(self, key: str) -> None:
        """The request is over without a clip (failed, unknown to fal, cancelled): neither its
        claim nor a receipt naming it may send another machine after it."""
        self.tier.delete(claim_name(key))
        self.tier.delete(receipt_name(key))


_WAIT = object()
