"""`make bench`: the reference figures first (the others report their ratio to them), then every benchmark, then
a partner day at a modest rate; reports in bench/results/.

The license benchmark runs at the issue's full size (1,000,000 licenses, a renewal run over 100,000
subscriptions due the same day: about 10 minutes here); `python -m bench.customers_search --full` adds the
1,000,000-customer lookups.
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
    licenses_and_renewals.main,
    billing_events.main,
    notifications_delivery.main,
    partial(partner_day.main, rate=5.0, duration=300.0),
]

if __name__ == "__main__":
    for benchmark in BENCHMARKS:
        benchmark()
