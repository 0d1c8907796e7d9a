"""Greenhouse renders a job's pay-transparency range into its content; the spider reads it."""

from __future__ import annotations

from spiders.greenhouse import pay_range

CONTENT = (
    '<p>Lead a shift.</p><div class="content-pay-transparency"><div class="pay-input">'
    '<div class="title">Pay range</div><div class="pay-range"><span>$68,000</span>'
    '<span class="divider">&mdash;</span><span>$78,000 USD</span></div></div></div>'
)


def test_pay_range_is_read_from_the_pay_transparency_block():
    assert pay_range(CONTENT) == "$68,000 — $78,000 USD"


def test_no_pay_block_means_no_salary_text():
    assert pay_range("<p>Lead a shift. Budget $5M.</p>") is None
    assert pay_range(None) is None
