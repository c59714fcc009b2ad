"""Benchmarks that print figures (run by the scripts in ci/, never as tests). They live
outside the installed package: run them from the repository root as `python -m
benchmarks.NAME`, as the ci/bench* scripts do; they use neurodamus only through its public
modules."""
