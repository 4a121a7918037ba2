"""Parts of ``scripts/bench_inquiries.py``: process sampling and the bare fan-out peer."""
