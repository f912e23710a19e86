"""The claim protocol on the local Folder tier (the same code runs on S3): who may submit."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from grokreel.cache.claims import Claims
from grokreel.cache.journal import JournalEntry
from grokreel.cache.tier import Folder, claim_name, receipt_name

KEY = "ab" * 32


def entry(request_id: str = "req-1") -> JournalEntry:
    urls = [f"http://fal.test/{request_id}/{part}" for part in ("status", "response", "cancel")]
    return JournalEntry(KEY, "lake", "xai/t2v", request_id, *urls, "http://fal.test")


@pytest.fixture
def tier(tmp_path: Path) -> Folder:
    return Folder(tmp_path / "bucket")


async def test_first_claim_wins_and_second_waits_for_its_request(tier: Folder) -> None:
    """The second machine gets the first one's request, never a go-ahead to submit."""
    first, second = Claims(tier, poll=0.01), Claims(tier, poll=0.01)
    assert await first.take(KEY) is None
    first.share(entry())
    followed = await second.take(KEY)
    assert followed is not None and followed.request_id == "req-1"


async def test_a_retried_create_of_ones_own_claim_is_a_win(tier: Folder) -> None:
    """A create that happened but whose answer was lost is recognised as this owner's."""
    claims = Claims(tier)
    assert await claims.take(KEY) is None
    assert await claims.take(KEY) is None


@pytest.mark.parametrize(("age", "expected_win"), [(3600.0, True), (0.0, False)])
async def test_an_empty_claim_expires_only_after_its_time(
    tier: Folder, age: float, expected_win: bool
) -> None:
    """A dead holder's claim without a request is taken over after ttl, not before."""
    dead = {"owner": "dead", "time": time.time() - age, "entry": None}
    tier.write(claim_name(KEY), json.dumps(dead).encode())
    claims = Claims(tier, ttl=60, poll=0.01)
    step = claims._step(KEY, True)
    assert (step is None) == expected_win
    if expected_win:
        assert json.loads(tier.read(claim_name(KEY)) or b"")["owner"] == claims.owner


async def test_a_claim_naming_a_request_never_expires(tier: Folder) -> None:
    """However old, a claim with a request id is followed, not taken over."""
    old = {"owner": "dead", "time": 0, "entry": entry().__dict__}
    tier.write(claim_name(KEY), json.dumps(old).encode())
    followed = await Claims(tier, ttl=0).take(KEY)
    assert followed is not None and followed.request_id == "req-1"


async def test_a_finished_job_is_followed_by_its_receipt(tier: Folder) -> None:
    """After the holder settled, a late machine follows the receipt's request and leaves no
    claim behind."""
    holder = Claims(tier)
    await holder.take(KEY)
    holder.share(entry())
    holder.settle(KEY, entry().__dict__ | {"output": "cd" * 32})
    late = await Claims(tier).take(KEY)
    assert late is not None and late.request_id == "req-1"
    assert tier.read(claim_name(KEY)) is None and tier.read(receipt_name(KEY)) is not None


async def test_a_dropped_request_frees_the_job(tier: Folder) -> None:
    """A failed request ends its claim and receipt: the next machine may submit."""
    holder = Claims(tier)
    await holder.take(KEY)
    holder.share(entry())
    holder.drop(KEY)
    assert await Claims(tier).take(KEY) is None
