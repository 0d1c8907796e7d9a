"""The digest run's summary line."""

from alerts.digests.summary import DigestSummary


def test_the_line_gives_the_phase_times_only_after_a_real_run():
    summary = DigestSummary(due=3, sent=2, empty=1)
    assert summary.line() == "due 3, sent 2, empty 1, failed 0"
    summary.claim_s, summary.send_s = 12.34, 0.05
    assert summary.line() == "due 3, sent 2, empty 1, failed 0; claim 12.3 s, send 0.1 s"


def test_the_phase_times_follow_the_unusual_counts():
    summary = DigestSummary(due=1, retry=1, claim_s=1.0, send_s=2.0)
    assert (
        summary.line() == "due 1, sent 0, empty 0, failed 0 (1 to retry); claim 1.0 s, send 2.0 s"
    )
