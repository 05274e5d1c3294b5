"""`make bench`: every benchmark, one after the other; reports in bench/results/.

The renewal run is sized at 20,000 subscriptions due the same day (about 5 minutes here) rather than the
issue's 100,000 (about 25 minutes at today's rate); `python -m bench.licenses_and_renewals 1000000 100000`
runs the full size.
"""

from functools import partial

from bench import billing_events, customers_search, licenses_and_renewals, notifications_delivery, order_flow

BENCHMARKS = [
    customers_search.main,
    order_flow.main,
    partial(licenses_and_renewals.main, renewals=20_000),
    billing_events.main,
    notifications_delivery.main,
]

if __name__ == "__main__":
    for benchmark in BENCHMARKS:
        benchmark()
