"""Test support: generators of small SONATA circuits, used by the tests and the bundled example."""
