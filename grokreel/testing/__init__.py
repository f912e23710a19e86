"""Test helpers shipped with grokreel, so your own CI can exercise the fal backend offline.

    from grokreel.testing import FalTestServer, Faults

    with FalTestServer(faults=Faults(flaky=0.3)) as fal:
        env = fal.env()                  # FAL_KEY, GROKREEL_FAL_QUEUE_URL, GROKREEL_FAL_REST_URL
        ...                              # run `grokreel build` with that environment
        assert len(fal.submissions) == 6 # paid jobs created

Or from a shell: ``python -m grokreel.testing --port 8765``.
"""

from .fal_server import Call, FalTestServer, Faults, Submission

__all__ = ["Call", "FalTestServer", "Faults", "Submission"]
