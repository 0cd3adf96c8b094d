"""On-demand benchmarks (`make bench`, or `python -m bench [enrich|build|sparql]`); not part of `make test`."""
