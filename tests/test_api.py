"""The API contract: the seed's examples are test vectors for the endpoint models."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from grokreel import api

SEED = Path(__file__).resolve().parents[2] / "shared/seed/grok-imagine-video-api.md"


def _examples(kind: str) -> list[tuple[str, dict]]:
    text = SEED.read_text()
    out = []
    for tab in re.split(r'<Tab title="', text)[1:]:
        endpoint = re.search(r"Endpoint ID:\*\* `xai/grok-imagine-video/([\w-]+)`", tab).group(1)
        block = re.search(rf"### {kind} Example\s+```json[^\n]*\n(.*?)```", tab, re.S).group(1)
        out.append((endpoint, json.loads(block)))
    return out


@pytest.mark.skipif(not SEED.exists(), reason="the seed document is not beside the checkout")
def test_seed_input_examples_validate():
    """Each endpoint's input example validates and is already in normalized form."""
    examples = _examples("Input")
    assert {e for e, _ in examples} == set(api.ENDPOINTS)
    for endpoint, data in examples:
        assert api.normalize_input(endpoint, data) == data


@pytest.mark.skipif(not SEED.exists(), reason="the seed document is not beside the checkout")
def test_seed_output_examples_parse():
    """Each endpoint's output example parses as a VideoOutput."""
    for _, data in _examples("Output"):
        video = api.VideoOutput.model_validate(data).video
        assert video.url.startswith("https://") and video.fps == 24


@pytest.mark.parametrize(
    ("endpoint", "data"),
    [
        ("text-to-video", {"prompt": "x", "duration": 16}),
        ("text-to-video", {"prompt": "x", "aspect_ratio": "auto"}),
        ("image-to-video", {"prompt": "x"}),
        ("reference-to-video", {"prompt": "x", "reference_image_urls": ["u"] * 8}),
        ("reference-to-video", {"prompt": "x", "reference_image_urls": ["u"], "duration": 11}),
        ("edit-video", {"prompt": "x", "video_url": "u", "duration": 5}),
        ("extend-video", {"prompt": "x", "video_url": "u", "duration": 1}),
        ("text-to-video", {"prompt": "x" * 4097}),
    ],
)
def test_contract_rejects_out_of_range(endpoint, data):
    """Values outside the seed's enums and ranges are refused before any request is made."""
    with pytest.raises(ValidationError):
        api.normalize_input(endpoint, data)
