"""Fixtures for the remote cache: a real S3 server (moto) on loopback, a fresh bucket per test,
an AWS environment pointing at it, and a proxy that makes a share of its calls fail."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest

from grokreel.testing.s3 import FaultyProxy, MotoS3

SECRET = "test-secret-9c2e7f"  # the AWS secret of every test: no file or message may hold it
_BUCKETS = itertools.count()


@pytest.fixture(scope="session")
def moto() -> Iterator[MotoS3]:
    """moto's S3 in server mode on 127.0.0.1, for the whole session."""
    with MotoS3() as server:
        yield server


@pytest.fixture
def bucket(moto: MotoS3) -> str:
    """A new, empty bucket."""
    name = f"films-{next(_BUCKETS)}"
    moto.create_bucket(name)
    return name


@pytest.fixture
def s3_env(moto: MotoS3, bucket: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The AWS environment of a team member, pointing at moto; returns the remote's URL."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto.url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIATESTKEY0001")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.delenv("GROKREEL_REMOTE", raising=False)
    return f"s3://{bucket}/team"


@pytest.fixture
def faulty(moto: MotoS3, s3_env: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[FaultyProxy]:
    """Every S3 call goes through a proxy that fails 20 % of them (500/503 or a dropped
    connection, before or after moto saw the request)."""
    with FaultyProxy(moto.url, rate=0.2, seed=7) as proxy:
        monkeypatch.setenv("AWS_ENDPOINT_URL", proxy.url)
        yield proxy
