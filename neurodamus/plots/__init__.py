"""`neurodamus plot OUTPUT_DIR`: pictures of a finished run (spike raster, firing rates, soma
traces) as PNG files.

matplotlib is an optional extra (`pip install neurodamus[plot]`): nothing in this package imports
it at module level, so a simulation never needs it.
"""
