"""Benchmarks that print figures (run by the scripts in ci/, never as tests)."""
