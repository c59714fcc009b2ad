"""`neurodamus plot OUTPUT_DIR [--report NAME] [--out DIR]`: draw a finished run's outputs."""

import argparse
import sys
from pathlib import Path

from .outputs import PlotError, check_output_dir, read_soma_traces, read_spikes


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="neurodamus plot", allow_abbrev=False,
        description="Draw a run's spike raster and firing rates (and, with --report, the soma "
                    "traces of a frame report) as PNG files. Needs matplotlib "
                    "(pip install neurodamus[plot]).")
    parser.add_argument("output_dir", type=Path, metavar="OUTPUT_DIR",
                        help="the run's output directory (output.output_dir or --output-path)")
    parser.add_argument("--report", action="append", default=[], metavar="NAME",
                        help="also draw the soma traces of report NAME (NAME.h5; may be repeated)")
    parser.add_argument("--out", type=Path, metavar="DIR",
                        help="where the PNG files go (default OUTPUT_DIR/plots)")
    parser.add_argument("--max-traces", type=int, default=10, metavar="N",
                        help="draw the first N nodes of each population in a report (default 10)")
    parser.add_argument("--bin", type=float, default=10.0, metavar="MS",
                        help="bin width of the firing rates in ms (default 10)")
    return parser


def _require_matplotlib():
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise PlotError("neurodamus plot needs matplotlib: pip install neurodamus[plot]") from None


def draw_all(args) -> list[Path]:
    from .raster import draw_raster
    from .rates import draw_rates
    from .traces import draw_traces

    if args.max_traces < 1:
        raise PlotError(f"--max-traces {args.max_traces} must be at least 1")
    if not args.bin > 0:
        raise PlotError(f"--bin {args.bin} must be positive")
    directory = check_output_dir(args.output_dir)
    out = args.out or directory / "plots"
    traces = {name: read_soma_traces(directory, name, args.max_traces) for name in args.report}
    spikes = read_spikes(directory)
    paths = [draw_raster(spikes, out / "raster.png"),
             draw_rates(spikes, out / "rates.png", args.bin)]
    paths += [draw_traces(name, found, out / f"traces_{name}.png")
              for name, found in traces.items()]
    return paths


def main(argv) -> int:
    args = build_parser().parse_args(argv)
    try:
        _require_matplotlib()
        paths = draw_all(args)
    except PlotError as error:
        print(f"neurodamus: error: {error}", file=sys.stderr)
        return 1
    for path in paths:
        print(path)
    return 0
