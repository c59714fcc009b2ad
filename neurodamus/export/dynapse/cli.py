"""`neurodamus export-dynapse CONFIG -o DIR [--node-set NAME] [--cores auto|FILE]
[--currents matched|rockpool] [--simulate T] [--mismatch PERCENT --seed S]`.

Serial on purpose: it reads a point-neuron network of at most 4096 neurons; no MPI.
"""

import argparse
import sys

from ...errors import NeurodamusError
from .bias_codes import core_bias_codes, rounding_summary
from .chip_config import build_chip_config
from .chip_model import DEFAULT_DT_MS, run_chip
from .cores import read_cores_file
from .errors import ExportConfigError
from .inputs import read_replay_spikes
from .mismatch import check_mismatch_percent, mismatched_config
from .network import open_configs, read_network
from .neuron_reference import neuron_spike_times
from .parameters import CONVERSIONS, DEFAULT_CONVERSION
from .samna_config import write_samna_config
from .summary import comparison_table, export_summary, write_simulation
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
                             "FILE is a JSON assignment (see docs/dynapse.md)")
    parser.add_argument("--mv-per-unit", type=float, metavar="U",
                        help="millivolts per dimensionless unit for LIFs given in mV (default: "
                             "the median V_th - E_L)")
    parser.add_argument("--currents", choices=CONVERSIONS, default=DEFAULT_CONVERSION,
                        help="'matched' (default) chooses the spike threshold and synaptic gain "
                             "so that the chip's linear neuron is the LIF (same rate for the same "
                             "drive); 'rockpool' gives the currents of Rockpool's mapper "
                             "(DYNAPSE.md's formulas; Rockpool's all 13 where t_ref is 1 ms, as "
                             "Rockpool ignores t_ref), whose rates are not the LIF's")
    parser.add_argument("--simulate", type=float, metavar="T",
                        help="also run T ms of the exported network on the chip's neuron model "
                             "and in NEURON, with the config's replayed inputs, and print the "
                             "spike counts of each neuron side by side")
    parser.add_argument("--dt", type=float, default=DEFAULT_DT_MS, metavar="MS",
                        help="the chip model's step for --simulate, in ms (default "
                             f"{DEFAULT_DT_MS:g}, converged: events at their exact times); "
                             "counts and first spike times go to DIR/simulation.json")
    parser.add_argument("--mismatch", type=float, metavar="PERCENT",
                        help="with --simulate: give each neuron of the chip model its own "
                             "currents, drawn with a Gaussian relative spread of PERCENT%% "
                             "around its core's (device mismatch; see docs/dynapse.md)")
    parser.add_argument("--seed", type=int, default=0, metavar="S",
                        help="seed of the --mismatch draw (default 0): a seed gives the same "
                             "chip every time")
    return parser


def _check_options(args) -> None:
    if args.simulate is not None and not args.simulate > 0:
        raise ExportConfigError(f"needs a positive duration in ms, got {args.simulate:g}",
                                key="--simulate")
    if not args.dt > 0:
        raise ExportConfigError(f"needs a positive step in ms, got {args.dt:g}", key="--dt")
    if args.mv_per_unit is not None and not args.mv_per_unit > 0:
        raise ExportConfigError(f"needs a positive voltage in mV, got {args.mv_per_unit:g}",
                                key="--mv-per-unit")
    if args.mismatch is not None:
        check_mismatch_percent(args.mismatch)
        if args.simulate is None:
            raise ExportConfigError("perturbs the chip model's currents, so it needs --simulate",
                                    key="--mismatch")


def export(args, out=None) -> None:
    out = out or sys.stdout
    _check_options(args)
    configs = open_configs(args.config)
    network = read_network(configs, args.node_set, args.mv_per_unit)
    cores = (None if args.cores == "auto"
             else read_cores_file(args.cores, network.population, network.node_id))
    config, notes = build_chip_config(network, cores, args.currents)
    codes = core_bias_codes(config)        # a bias no code reaches is an error before writing
    try:
        json_path, npz_path = write_export(config, args.output, notes)
        samna_path = write_samna_config(config, args.output, codes)
    except OSError as error:
        raise ExportConfigError(f"cannot write the export: {error}", file=args.output) from None
    print(f"Dynap-SE export of {args.config}: {json_path}, {npz_path}", file=out)
    print(f"samna configuration: {samna_path}", file=out)
    print("on a board (samna): from neurodamus.export.dynapse.apply import apply_export; "
          f"model.apply_configuration(apply_export({str(args.output)!r}, "
          "model.get_configuration()))", file=out)
    print(export_summary(config, notes), file=out)
    print(rounding_summary(config, codes), file=out)
    if args.simulate is None:
        return
    input_spikes, input_notes = read_replay_spikes(configs, network.input_population,
                                                   network.input_node_id)
    for note in input_notes:
        print(f"note: {note}", file=out)
    chip_config = config
    if args.mismatch is not None:
        chip_config, mismatch = mismatched_config(config, args.mismatch, args.seed)
        print(mismatch.summary(), file=out)
    chip = run_chip(chip_config, input_spikes, args.simulate, args.dt)
    neuron_dt = configs.simulation.run.dt
    neuron_times = neuron_spike_times(network, input_spikes, args.simulate, neuron_dt)
    neuron_counts = [len(t) for t in neuron_times]
    try:
        path = write_simulation(args.output, config, chip, neuron_times, neuron_dt)
    except OSError as error:
        raise ExportConfigError(f"cannot write the simulation: {error}",
                                file=args.output) from None
    print(f"spike counts and first spike times: {path}", file=out)
    print(comparison_table(config, chip.counts, neuron_counts, args.simulate), file=out)


def main(argv: list[str] | None = None) -> int:
    """The `export-dynapse` command; `argv` excludes the command's name. Returns the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_request:      # argparse has printed the usage or the help
        return int(exit_request.code or 0)
    try:
        export(args)
    except NeurodamusError as error:  # ours, and the config layer's (a dialect's strict copy)
        message = " ".join(str(error).split())       # one line, whatever the library said
        print(f"neurodamus export-dynapse: error: {message}", file=sys.stderr)
        return 1
    return 0
