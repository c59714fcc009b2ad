"""`neurodamus export-dynapse CONFIG -o DIR [--node-set NAME] [--cores auto|FILE] [--simulate T]`.

Serial on purpose: it reads a point-neuron network of at most 4096 neurons; no MPI.
"""

import argparse
import sys

from .chip_config import build_chip_config
from .chip_model import simulate_chip
from .cores import read_cores_file
from .errors import DynapseError, ExportConfigError
from .inputs import read_replay_spikes
from .network import open_configs, read_network
from .neuron_reference import simulate_neuron
from .summary import comparison_table, export_summary
from .writer import write_export


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="neurodamus export-dynapse",
        description="Export the point-neuron (LIF, IntFire1) network of a SONATA simulation as "
                    "Dynap-SE chip parameters: DIR/dynapse.json and DIR/dynapse.npz.")
    parser.add_argument("config", help="the SONATA simulation_config.json")
    parser.add_argument("-o", "--output", required=True, metavar="DIR",
                        help="directory to write dynapse.json and dynapse.npz into")
    parser.add_argument("--node-set", metavar="NAME",
                        help="the neurons to export (default: the config's node_set, else all "
                             "point neurons)")
    parser.add_argument("--cores", default="auto", metavar="auto|FILE",
                        help="'auto' groups neurons into cores by population and parameters; "
                             "FILE is a JSON assignment (see the README)")
    parser.add_argument("--mv-per-unit", type=float, metavar="U",
                        help="millivolts per dimensionless unit for LIFs given in mV (default: "
                             "the median V_th - E_L)")
    parser.add_argument("--simulate", type=float, metavar="T",
                        help="also run T ms of the exported network on the chip's neuron model "
                             "and in NEURON, with the config's replayed inputs, and print the "
                             "spike counts of each neuron side by side")
    return parser


def _check_options(args) -> None:
    if args.simulate is not None and not args.simulate > 0:
        raise ExportConfigError(f"needs a positive duration in ms, got {args.simulate:g}",
                                key="--simulate")
    if args.mv_per_unit is not None and not args.mv_per_unit > 0:
        raise ExportConfigError(f"needs a positive voltage in mV, got {args.mv_per_unit:g}",
                                key="--mv-per-unit")


def export(args, out=None) -> None:
    out = out or sys.stdout
    _check_options(args)
    configs = open_configs(args.config)
    network = read_network(configs, args.node_set, args.mv_per_unit)
    cores = (None if args.cores == "auto"
             else read_cores_file(args.cores, network.population, network.node_id))
    config, notes = build_chip_config(network, cores)
    try:
        json_path, npz_path = write_export(config, args.output, notes)
    except OSError as error:
        raise ExportConfigError(f"cannot write the export: {error}", file=args.output) from None
    print(f"Dynap-SE export of {args.config}: {json_path}, {npz_path}", file=out)
    print(export_summary(config, notes), file=out)
    if args.simulate is None:
        return
    input_spikes, input_notes = read_replay_spikes(configs, network.input_population,
                                                   network.input_node_id)
    for note in input_notes:
        print(f"note: {note}", file=out)
    chip_counts = simulate_chip(config, input_spikes, args.simulate)
    neuron_counts = simulate_neuron(network, input_spikes, args.simulate,
                                    configs.simulation.run.dt)
    print(comparison_table(config, chip_counts, neuron_counts, args.simulate), file=out)


def main(argv: list[str] | None = None) -> int:
    """The `export-dynapse` command; `argv` excludes the command's name. Returns the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_request:      # argparse has printed the usage or the help
        return int(exit_request.code or 0)
    try:
        export(args)
    except DynapseError as error:
        message = " ".join(str(error).split())       # one line, whatever the library said
        print(f"neurodamus export-dynapse: error: {message}", file=sys.stderr)
        return 1
    return 0
