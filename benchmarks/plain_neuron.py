"""The floor for `ci/bench`: the benchmark circuit built and solved by a plain NEURON script.

    mpiexec -n R python -m benchmarks.plain_neuron SIMULATION_CONFIG [--json OUT]

No driver: the nodes and edges are read with h5py, the circuit's hoc templates are
instantiated with the same morphologies, one NdTmExc / NdTmInh per edge with the edge's
parameters, a NetCon per edge with its delay and weight, the config's linear current clamps
at the soma, gids distributed round-robin over ParallelContext, then psolve to tstop.
Only what the generated benchmark circuit uses is supported (one `linear` input type).

`--synapse expsyn` replaces every synapse by NEURON's ExpSyn (same NetCons, delays and
decay times; no release model, no NMDA, two fewer state pairs) and `--synapse none` drops
them (cells and stimuli only): the baselines for the cost of our synapse mechanisms in
psolve. `--mechanisms LIB` loads another libnrnmech.so (a variant of the mod files).
Rank 0 prints one JSON line of figures (times are the slowest rank's).
"""

import argparse
import json
import time
from pathlib import Path
from typing import Any

import h5py
import numpy as np

MORPHOLOGY_SUFFIX = ".swc"
SECTION_ARRAYS = (("soma", "somatic"), ("axon", "axonal"), ("dend", "basal"), ("apic", "apical"))


def strings(dataset) -> list[str]:
    return [v.decode() if isinstance(v, bytes) else str(v) for v in dataset[()]]


def _resolve(path: str, base: Path) -> Path:
    return (base / path.replace("$BASE_DIR/", "").replace("$BASE_DIR", ".")).resolve()


def attach_linear_clamps(h, simulation: dict, cells: dict) -> list:
    """The config's linear current clamps at the soma of every cell, as NEURON objects to
    keep alive until the run ends (a played ramp: 0, amp_start -> amp_end, 0)."""
    clamps: list = []
    for settings in simulation.get("inputs", {}).values():
        delay, duration = float(settings["delay"]), float(settings["duration"])
        start = float(settings["amp_start"])
        end = float(settings.get("amp_end", start))
        times = h.Vector([0.0, delay, delay, delay + duration, delay + duration, 1e9])
        amps = h.Vector([0.0, 0.0, start, end, 0.0, 0.0])
        for cell in cells.values():
            clamp = h.IClamp(cell.soma[0](0.5))
            clamp.delay, clamp.dur = 0.0, 1e9
            amps.play(clamp._ref_amp, times, 1)
            clamps.append(clamp)
        clamps.append((times, amps))
    return clamps


def read_circuit(simulation_config: Path):
    """(populations, edge populations, simulation settings) from the SONATA files."""
    simulation = json.loads(simulation_config.read_text())
    circuit_path = (simulation_config.parent / simulation["network"]).resolve()
    circuit = json.loads(circuit_path.read_text())
    base = circuit_path.parent
    emodels = _resolve(circuit["components"]["biophysical_neuron_models_dir"], base)
    populations, offset = {}, 0
    for entry in circuit["networks"]["nodes"]:
        with h5py.File(_resolve(entry["nodes_file"], base), "r") as f:
            for name, settings in entry["populations"].items():
                group = f[f"nodes/{name}/0"]
                size = group["model_template"].shape[0]
                populations[name] = {
                    "offset": offset, "size": size,
                    "template": strings(group["model_template"]),
                    "morphology": strings(group["morphology"]),
                    "inhibitory": np.array(strings(group["synapse_class"])) == "INH",
                    "morphologies_dir": _resolve(settings["morphologies_dir"], base),
                }
                offset += size
    edges = []
    for entry in circuit["networks"]["edges"]:
        with h5py.File(_resolve(entry["edges_file"], base), "r") as f:
            for name in entry["populations"]:
                group = f[f"edges/{name}"]
                values = {key: group["0"][key][()] for key in group["0"]}
                values["source"] = group["source_node_id"][()].astype(np.int64)
                values["target"] = group["target_node_id"][()].astype(np.int64)
                edges.append((group["source_node_id"].attrs["node_population"],
                              group["target_node_id"].attrs["node_population"], values))
    return populations, edges, simulation, emodels


def _sections(cell) -> list:
    """The cell's sections in SONATA section-id order (soma, axon, dend, apic)."""
    found: list = []
    for array, section_list in SECTION_ARRAYS:
        count = sum(1 for _ in getattr(cell, section_list))
        found.extend(getattr(cell, array)[i] for i in range(count))
    return found


def main(argv=None):
    parser = argparse.ArgumentParser(prog="plain_neuron", description=__doc__.split("\n\n")[0])
    parser.add_argument("simulation_config", type=Path)
    parser.add_argument("--synapse", choices=("ndtm", "expsyn", "none"), default="ndtm")
    parser.add_argument("--mechanisms", type=Path, help="libnrnmech.so (default: the driver's "
                        "cached build of mod/)")
    parser.add_argument("--tstop", type=float, help="default: the config's")
    parser.add_argument("--deterministic", action="store_true",
                        help="NdTm* release in deterministic mode (no Random123 draws)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    from mpi4py import MPI  # noqa: F401  (MPI first; NEURON then finds its library)

    from neurodamus.parallel import point_neuron_at_mpi  # only to locate libmpi for NEURON

    point_neuron_at_mpi()
    from neuron import h

    h.nrnmpi_init()  # MPI under mpiexec (a no-op otherwise)

    # Only to find the library:
    from neurodamus.mechanisms import build_mechanisms, mechanism_sources

    library = args.mechanisms or build_mechanisms(mechanism_sources())
    h.nrn_load_dll(str(library))
    h.load_file("stdrun.hoc")
    if args.deterministic:
        h.deterministic_NdTmExc = h.deterministic_NdTmInh = 1
    pc = h.ParallelContext()
    rank, nhost = int(pc.id()), int(pc.nhost())
    populations, edges, simulation, emodels = read_circuit(args.simulation_config.resolve())
    run = simulation["run"]
    tstop = args.tstop if args.tstop is not None else float(run["tstop"])
    h.dt = float(run.get("dt", 0.025))
    h.celsius = float(simulation.get("conditions", {}).get("celsius", 34.0))
    v_init = float(simulation.get("conditions", {}).get("v_init", -65.0))
    threshold = float(run.get("spike_threshold", -30.0))
    h.load_file(str(emodels / "nd_morphology.hoc")) if (emodels / "nd_morphology.hoc").exists() \
        else None
    for template in {t for p in populations.values() for t in p["template"]}:
        name = template.split(":", 1)[1]
        if not hasattr(h, name):
            h.load_file(str(emodels / f"{name}.hoc"))
    read_s = time.perf_counter() - started

    # Cells, round-robin by gid.
    pc.barrier()
    started = time.perf_counter()
    cells: dict[int, Any] = {}
    detectors = []
    for pop in populations.values():
        for node in range(pop["size"]):
            gid = pop["offset"] + node
            if gid % nhost != rank:
                continue
            morphology = pop["morphology"][node]
            if not Path(morphology).suffix:
                morphology += MORPHOLOGY_SUFFIX
            cell = getattr(h, pop["template"][node].split(":", 1)[1])(
                gid, str(pop["morphologies_dir"]), morphology)
            cells[gid] = cell
            pc.set_gid2node(gid, rank)
            detector = cell.connect2target(h.nil)
            detector.threshold = threshold
            pc.cell(gid, detector)
            detectors.append(detector)
    cells_s = time.perf_counter() - started

    # Synapses: one point process and one NetCon per edge.
    pc.barrier()
    started = time.perf_counter()
    # The driver's stream keys, to compare:
    from neurodamus.random.keys import Purpose, purpose_id

    release_id = purpose_id(Purpose.SYNAPSE_RELEASE, int(run.get("synapse_seed", 0)))
    synapses, netcons = [], []
    index_of_cell: dict[int, int] = {}
    section_cache: dict[int, list] = {}
    for source_name, target_name, values in edges:
        source, target = populations[source_name], populations[target_name]
        target_gids = values["target"] + target["offset"]
        mine = np.flatnonzero(target_gids % nhost == rank)
        inhibitory = source["inhibitory"][values["source"]]
        scale = values.get("conductance_scale_factor")
        weights = values["conductance"].astype(float) * (1.0 if scale is None else scale)
        for edge in mine:
            gid = int(target_gids[edge])
            index = index_of_cell.get(gid, 0)
            index_of_cell[gid] = index + 1
            if args.synapse == "none":
                continue
            sections = section_cache.get(gid)
            if sections is None:
                sections = section_cache[gid] = _sections(cells[gid])
            location = sections[int(values["afferent_section_id"][edge])](
                float(values["afferent_section_pos"][edge]))
            weight = float(weights[edge])
            if args.synapse == "expsyn":
                synapse = h.ExpSyn(location)
                synapse.tau = float(values["decay_time"][edge])
                synapse.e = -80.0 if inhibitory[edge] else 0.0
                weight *= 0.001  # nS -> uS
            else:
                if inhibitory[edge]:
                    synapse = h.NdTmInh(location)
                    synapse.tau_d_GABAA = float(values["decay_time"][edge])
                else:
                    synapse = h.NdTmExc(location)
                    synapse.tau_d_AMPA = float(values["decay_time"][edge])
                synapse.Use = float(values["u_syn"][edge])
                synapse.Dep = float(values["depression_time"][edge])
                synapse.Fac = float(values["facilitation_time"][edge])
                synapse.Nrrp = float(values["n_rrp_vesicles"][edge])
                synapse.release_rng.set_ids(release_id, gid, index)
                synapse.release_rng.set_seq(0)
            netcon = pc.gid_connect(int(values["source"][edge]) + source["offset"], synapse)
            netcon.delay = float(values["delay"][edge])
            netcon.weight[0] = weight
            synapses.append(synapse)
            netcons.append(netcon)
    synapses_s = time.perf_counter() - started

    # Stimuli: the config's linear current clamps, at the soma of every cell.
    for settings in simulation.get("inputs", {}).values():
        if settings.get("module") != "linear":
            raise SystemExit(f"plain_neuron: only `linear` inputs, not {settings.get('module')}")
    clamps = attach_linear_clamps(h, simulation, cells)  # noqa: F841  (kept alive to the run)

    spike_times, spike_gids = h.Vector(), h.Vector()
    pc.spike_record(-1, spike_times, spike_gids)
    pc.set_maxstep(10)
    h.finitialize(v_init)
    pc.barrier()
    started = time.perf_counter()
    solve_started = h.startsw()
    pc.psolve(tstop)
    psolve_sw = h.startsw() - solve_started
    solve_s = time.perf_counter() - started
    pc.barrier()

    def slowest(value: float) -> float:
        return float(pc.allreduce(value, 2))

    figures = {
        "ranks": nhost, "synapse": args.synapse, "library": str(library),
        "cells": int(pc.allreduce(len(cells), 1)),
        "synapses": int(pc.allreduce(len(synapses), 1)),
        "spikes": int(pc.allreduce(spike_times.size(), 1)),
        "read_s": slowest(read_s), "cells_s": slowest(cells_s),
        "synapses_s": slowest(synapses_s), "solve_s": slowest(solve_s),
        "psolve_startsw_s": slowest(psolve_sw), "tstop": tstop, "dt": h.dt,
    }
    figures["build_s"] = figures["cells_s"] + figures["synapses_s"]
    if rank == 0:
        print(json.dumps(figures))
        if args.json:
            args.json.write_text(json.dumps(figures, indent=2))
    pc.barrier()
    pc.done()
    h.quit()


if __name__ == "__main__":
    main()
