"""`make bench`: every benchmark, one after the other; reports in bench/results/."""

from bench import customers_search, order_flow

BENCHMARKS = [customers_search.main, order_flow.main]

if __name__ == "__main__":
    for benchmark in BENCHMARKS:
        benchmark()
