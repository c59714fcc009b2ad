"""The point-template circuit (neurodamus.testing.point_templates) built by hand in plain
NEURON, read straight from the files with h5py (no neurodamus): one instance of each
node's hoc template (the point ones' `pointcell` is the cell), one NetCon per
`point_process` edge into the target's IntFire1, one Exp2Syn per `Exp2Syn_synapse` edge
(section id 0 soma[0], k dend[k - 1]; tau1, tau2, e = erev), NetCon weight = conductance,
the edge's delay in whole steps (int(delay / dt + 1e-5) x dt, as the reference simulator
reads every SONATA edge delay), then the config's connection overrides (node sets named like the
populations): weight x the override's weight, synapse_delay_override as the delay. The
virtual sources' spikes are delivered on their edges' NetCons at spike time + delay.
Writes the spikes as {population: (times, node_ids)} into an .npz.

usage: point_templates_reference.py SIMULATION_CONFIG OUTPUT.npz
"""

import json
import sys
from pathlib import Path
from typing import Any

import h5py
import numpy as np
from neuron import h


def text(values):
    return [v.decode() if isinstance(v, bytes) else str(v) for v in values]


def main():
    config_file, output = Path(sys.argv[1]), Path(sys.argv[2])
    config = json.loads(config_file.read_text())
    directory = config_file.parent
    circuit = json.loads((directory / config["network"]).read_text())
    run, conditions = config["run"], config["conditions"]
    h.load_file("stdrun.hoc")
    for template in sorted((directory / "emodels").glob("*.hoc")):
        h.load_file(str(template))
    cells, sources, recorders = {}, {}, []
    with h5py.File(directory / "nodes.h5", "r") as f:
        for name, group in f["nodes"].items():
            if text(group["0/model_type"][:1])[0] == "virtual":
                continue
            for node, template in enumerate(text(group["0/model_template"][:])):
                cell = getattr(h, template.partition(":")[2])(node, "", "", 0)
                if hasattr(cell, "pointcell"):
                    detector = h.NetCon(cell.pointcell, None)
                    source = (cell.pointcell, None)
                else:
                    soma = cell.soma[0]
                    detector = h.NetCon(soma(1)._ref_v, None, sec=soma)
                    detector.threshold = run["spike_threshold"]
                    source = (soma(1)._ref_v, soma)
                times = h.Vector()
                detector.record(times)
                cells[(name, node)], sources[(name, node)] = cell, source
                recorders.append((name, node, detector, times))
    with h5py.File(directory / config["inputs"]["input"]["spike_file"], "r") as f:
        replayed = {name: (g["timestamps"][:], g["node_ids"][:]) for name, g in f["spikes"].items()}
    types = {name: p["type"] for entry in circuit["networks"]["edges"]
             for name, p in entry["populations"].items()}
    overrides = config.get("connection_overrides", [])
    netcons, synapses, events = [], [], []
    for path in sorted(directory.glob("edges_*.h5")):
        with h5py.File(path, "r") as f:
            for name, group in f["edges"].items():
                source_population = group["source_node_id"].attrs["node_population"]
                target_population = group["target_node_id"].attrs["node_population"]
                source_ids, target_ids = group["source_node_id"][:], group["target_node_id"][:]
                values = group["0"]
                weights = values["conductance"][:].astype(float)
                delays = (values["delay"][:] / run["dt"] + 1e-5).astype(np.int32) * run["dt"]
                for override in overrides:
                    if (override["source"], override["target"]) != (source_population,
                                                                    target_population):
                        continue
                    weights = weights * override.get("weight", 1.0)
                    if "synapse_delay_override" in override:
                        delays = np.full(delays.size, override["synapse_delay_override"])
                for k in range(source_ids.size):
                    target = cells[(target_population, int(target_ids[k]))]
                    if types[name] == "point_process":
                        receiver = target.pointcell
                    else:
                        section_id = int(values["afferent_section_id"][k])
                        section = target.soma[0] if section_id == 0 else target.dend[section_id - 1]
                        receiver = h.Exp2Syn(section(float(values["afferent_section_pos"][k])))
                        receiver.tau1, receiver.tau2 = values["tau1"][k], values["tau2"][k]
                        receiver.e = values["erev"][k]
                        synapses.append(receiver)
                    pre = sources.get((source_population, int(source_ids[k])))
                    if pre is None:
                        netcon = h.NetCon(None, receiver)
                        times, ids = replayed[source_population]
                        events.append((netcon, np.sort(times[ids == source_ids[k]])))
                    elif pre[1] is None:
                        netcon = h.NetCon(pre[0], receiver)
                    else:
                        netcon = h.NetCon(pre[0], receiver, sec=pre[1])
                        netcon.threshold = run["spike_threshold"]
                    netcon.weight[0], netcon.delay = float(weights[k]), float(delays[k])
                    netcons.append(netcon)

    def queue():
        for netcon, times in events:
            for time in times:
                netcon.event(float(time) + netcon.delay)

    handler = h.FInitializeHandler(1, queue)  # noqa: F841 (kept alive)
    h.celsius = conditions["celsius"]
    h.dt = run["dt"]
    h.finitialize(conditions["v_init"])
    h.continuerun(run["tstop"])
    by_population: dict[str, tuple] = {}
    for name, node, _, times in recorders:
        entry = by_population.setdefault(name, ([], []))
        entry[0].extend(times)
        entry[1].extend([node] * len(times))
    arrays: dict[str, Any] = {f"{name}_times": np.array(t) for name, (t, _) in by_population.items()}
    arrays.update({f"{name}_ids": np.array(i, np.int64) for name, (_, i) in by_population.items()})
    np.savez(output, **arrays)


if __name__ == "__main__":
    main()
