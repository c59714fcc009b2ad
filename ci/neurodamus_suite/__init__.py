"""The reference neurodamus's own test suite, its output assertions checked on our output
files: each case builds the simulation config the way the reference's test (named in the
case) builds it from the reference's `tests/simulations`, runs it through our CLI under
mpiexec, and checks the same values with the same tolerances. One module per group of the
reference's test files; context.py runs our CLI, outputs.py reads what it wrote. Not a test
of this project (its tests never need the reference).

usage: ci/neurodamus-suite REFERENCE_REPOSITORY [--only SUBSTRING] [--work DIR]
"""
