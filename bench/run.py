"""`make bench`: the reference figures first (the others report their ratio to them), then every benchmark, then
a partner day at a modest rate; reports in bench/results/.

The renewal run is sized at 20,000 subscriptions due the same day (about 5 minutes here) rather than the
issue's 100,000 (about 25 minutes at today's rate); `python -m bench.licenses_and_renewals 1000000 100000`
runs the full size, and `python -m bench.customers_search --full` adds the 1,000,000-customer lookups.
"""

from functools import partial

from bench import (
    billing_events,
    customers_search,
    gateway_read,
    licenses_and_renewals,
    notifications_delivery,
    order_flow,
    partner_day,
    reference,
)

BENCHMARKS = [
    reference.main,
    customers_search.main,
    gateway_read.main,
    order_flow.main,
    partial(licenses_and_renewals.main, renewals=20_000),
    billing_events.main,
    notifications_delivery.main,
    partial(partner_day.main, rate=5.0, duration=300.0),
]

if __name__ == "__main__":
    for benchmark in BENCHMARKS:
        benchmark()
