"""Rockpool's half of ci/dynapse-rockpool (runs in a venv with rockpool 3.1 and jax): the checks.

For each network ci/dynapse_rockpool_export.py wrote into OUT:
1. samna_config.json, read into Rockpool's samna_alias classes (their from_samna, which reads
   every field by attribute, as from a samna object) and written back by their to_json, equals
   our file field for field;
2. apply_export run on a blank configuration made of those classes (which mimic samna's
   attribute API) sets every value dynapse.json holds, and the result, written by to_json, is
   our samna_config.json;
3. the monitor route of every neuron equals the one Rockpool's WeightAllocator writes for the
   same network (core mask, hops; the tag conventions differ, see routing.py);
4. with inhibition off, our chip model's spike count is within 5% of DynapSim's at its
   converged step (the step below which DynapSim's count changes by under 1%).
Prints one line per check and exits non-zero if any fails.
"""

import json
import re
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rockpool.devices.dynapse import DynapSim  # noqa: E402
from rockpool.devices.dynapse.hardware.config.allocator import WeightAllocator  # noqa: E402
from rockpool.devices.dynapse.samna_alias import Dynapse2Configuration  # noqa: E402

from neurodamus.export.dynapse import samna_layout  # noqa: E402
from neurodamus.export.dynapse.apply import apply_export  # noqa: E402

ENUM_FIELDS = {"dendrite", "dvsMode", "_initialType"}
FAILED = []


def report(name: str, ok: bool, detail: str) -> None:
    print(f"{'PASS' if ok else 'FAIL'} {name}: {detail}", flush=True)
    if not ok:
        FAILED.append(name)


def snake(name: str) -> str:
    head = "_" if name.startswith("_") else ""
    body = re.sub(r"(?<!^)([A-Z])", r"_\1", name.lstrip("_")).lower()
    return head + body


def as_samna(value, key=None):
    """Our JSON as objects with samna's Python attributes (what from_samna reads)."""
    if key in ENUM_FIELDS:
        return SimpleNamespace(value=value)
    if key == "type" and isinstance(value, int):
        return chr(value)
    if isinstance(value, list):
        if all(isinstance(v, dict) and set(v) == {"key", "value"} for v in value):
            return {v["key"]: as_samna(v["value"]) for v in value}      # a parameter map
        return [as_samna(v) for v in value]
    if isinstance(value, dict):
        if all(k == f"value{n}" for n, k in enumerate(value)):
            return [as_samna(v) for v in value.values()]                 # cereal's array
        return SimpleNamespace(**{snake(k): as_samna(v, k) for k, v in value.items()})
    return value


def first_difference(a, b, path="") -> str | None:
    if type(a) is not type(b) and not (isinstance(a, (int, float)) and isinstance(b, (int, float))
                                       and not isinstance(a, bool) and not isinstance(b, bool)):
        return f"{path}: {type(a).__name__} {a!r:.60} vs {type(b).__name__} {b!r:.60}"
    if isinstance(a, dict):
        if list(a) != list(b):
            return f"{path}: keys {list(a)[:6]} vs {list(b)[:6]}"
        for k in a:
            found = first_difference(a[k], b[k], f"{path}.{k}")
            if found:
                return found
        return None
    if isinstance(a, list):
        if len(a) != len(b):
            return f"{path}: {len(a)} items vs {len(b)}"
        for n, (x, y) in enumerate(zip(a, b)):
            found = first_difference(x, y, f"{path}[{n}]")
            if found:
                return found
        return None
    return None if a == b else f"{path}: {a!r} vs {b!r}"


def count_fields(value) -> int:
    if isinstance(value, dict):
        return sum(count_fields(v) for v in value.values())
    if isinstance(value, list):
        return sum(count_fields(v) for v in value)
    return 1


def blank_configuration(n_chips: int) -> Dynapse2Configuration:
    document = {"value0": {"chips": [samna_layout.chip([samna_layout.core()] * 4)
                                     for _ in range(n_chips)]}}
    return Dynapse2Configuration.from_samna(as_samna(document["value0"]))


def check_round_trip(name: str, directory: Path) -> dict:
    ours = json.loads((directory / "samna_config.json").read_text())
    alias = Dynapse2Configuration.from_samna(as_samna(ours["value0"]))
    back = json.loads(alias.to_json())
    difference = first_difference(ours, back)
    report(f"{name} round trip", difference is None,
           difference or f"{count_fields(ours)} fields equal after samna_alias from_samna/to_json")
    return ours


def check_apply(name: str, directory: Path, ours: dict) -> None:
    export = json.loads((directory / "dynapse.json").read_text())
    configuration = blank_configuration(len(ours["value0"]["chips"]))
    apply_export(directory, configuration)
    checked, wrong = 0, []
    for core in export["cores"]:
        target = configuration.chips[core["chip"]].cores[core["core"]]
        for bias, code in core["bias_codes"].items():
            got = (target.parameters[bias].coarse_value, target.parameters[bias].fine_value)
            checked += 1
            if got != (code["coarse"], code["fine"]):
                wrong.append(f"{bias} of chip {core['chip']} core {core['core']}")
    for neuron in export["neurons"]:
        target = configuration.chips[neuron["chip"]].cores[neuron["core"]].neurons[
            neuron["neuron"]]
        for entry in neuron["cam"]:
            synapse = target.synapses[entry["slot"]]
            got = (int(synapse.dendrite), synapse.weight, synapse.tag)
            want = (entry["dendrite_code"], [bool(entry["mask"] >> k & 1) for k in range(4)],
                    entry["tag"])
            checked += 3
            if got != want:
                wrong.append(f"neuron {neuron['index']} CAM slot {entry['slot']}")
        for entry in neuron["destinations"]:
            destination = target.destinations[entry["slot"]]
            got = (destination.core, destination.x_hop, destination.y_hop, destination.tag)
            want = ([bool(entry["core_mask"] >> k & 1) for k in range(4)], entry["x_hop"],
                    entry["y_hop"], entry["tag"])
            checked += 4
            if got != want:
                wrong.append(f"neuron {neuron['index']} destination {entry['slot']}")
    report(f"{name} apply_export sets dynapse.json", not wrong,
           f"{checked} values checked" + (f"; wrong: {wrong[:3]}" if wrong else ""))
    difference = first_difference(ours, json.loads(configuration.to_json()))
    report(f"{name} apply_export onto a blank configuration gives samna_config.json",
           difference is None, difference or "field for field")


def check_monitor(name: str, directory: Path) -> None:
    export = json.loads((directory / "dynapse.json").read_text())
    n, n_in = len(export["neurons"]), len(export["input_map"])
    w_in, w_rec = np.zeros((n_in, n), int), np.zeros((n, n), int)
    sign_in, sign_rec = np.ones((n_in, n), int), np.ones((n, n), int)
    for neuron in export["neurons"]:
        for entry in neuron["cam"]:
            (kind, source), = entry["source"].items()
            weights, signs = (w_in, sign_in) if kind == "input" else (w_rec, sign_rec)
            weights[source, neuron["index"]] = entry["mask"]
            signs[source, neuron["index"]] = 1 if entry["dendrite"] == "AMPA" else -1
    core_map = [neuron["chip"] * 4 + neuron["core"] for neuron in export["neurons"]]
    positions = {chip: tuple(p) for chip, p in enumerate(export["board"]["chip_positions"])}
    allocator = WeightAllocator(weights_in=w_in, weights_rec=w_rec, sign_in=sign_in,
                                sign_rec=sign_rec, core_map=core_map, chip_pos=positions)
    sram = allocator.SRAM_content(use_samna=False, monitor_neurons=list(range(n)))
    theirs = {i: sram[i][0] for i in range(n)}
    mismatched = []
    for neuron in export["neurons"]:
        mine = next(d for d in neuron["destinations"] if d["slot"] == 0)
        rockpool = theirs[neuron["index"]]
        if ([bool(mine["core_mask"] >> k & 1) for k in range(4)], mine["x_hop"],
                mine["y_hop"]) != (list(rockpool.core), rockpool.x_hop, rockpool.y_hop):
            mismatched.append(neuron["index"])
    example = theirs[0]
    report(f"{name} monitor route equals Rockpool's allocator's", not mismatched,
           f"{n} neurons: core mask {example.core}, hops ({example.x_hop}, {example.y_hop}); "
           "tags: ours the neuron's own (the output map's (chip, tag)), Rockpool's the neuron "
           "index" + (f"; differ: {mismatched[:5]}" if mismatched else ""))


def dynapsim_counts(spec: dict, dt_s: float, duration_s: float) -> np.ndarray:
    currents = {k: np.asarray(v) for k, v in spec["currents"].items()}
    w_rec, w_in = np.asarray(spec["w_rec"]), np.asarray(spec["w_in"])
    n = w_rec.shape[0]
    steps = int(round(duration_s / dt_s))
    drive = np.zeros((steps, n), dtype=np.float32)
    for channel, times in enumerate(spec["input_spikes_ms"]):
        bins = np.floor(np.asarray(times) * 1e-3 / dt_s).astype(int)
        bins = bins[bins < steps]
        np.add.at(drive, bins, w_in[channel])
    model = DynapSim((n, n), has_rec=True, w_rec=w_rec, dt=dt_s, C_syn=25e-12,
                     Idc=currents["Idc"], If_nmda=currents["If_nmda"],
                     Igain_ahp=currents["Igain_ahp"], Igain_mem=currents["Igain_mem"],
                     Igain_syn=currents["Igain_syn"], Ipulse_ahp=currents["Ipulse_ahp"],
                     Ipulse=currents["Ipulse"], Iref=currents["Iref"],
                     Ispkthr=currents["Ispkthr"], Itau_ahp=currents["Itau_ahp"],
                     Itau_mem=currents["Itau_mem"], Itau_syn=currents["Itau_syn"],
                     Iw_ahp=currents["Iw_ahp"])
    spikes, _, _ = model.evolve(drive, record=False)
    return np.asarray(spikes).reshape(steps, n).sum(axis=0)


def check_dynapsim(name: str, directory: Path) -> None:
    record = json.loads((directory / "check.json").read_text())
    spec, ours = record["dynapsim"], np.asarray(record["chip_model_counts"])
    totals, previous, converged = {}, None, None
    for dt_us in (40, 20, 10, 5):
        start = time.perf_counter()
        counts = dynapsim_counts(spec, dt_us * 1e-6, 1.0)
        totals[dt_us] = (int(counts.sum()), time.perf_counter() - start)
        if previous is not None and abs(counts.sum() - previous.sum()) <= 0.01 * previous.sum():
            converged = (dt_us, counts)
            break
        previous = counts
    steps = ", ".join(f"{dt} µs: {total} ({seconds:.0f} s)" for dt, (total, seconds)
                      in totals.items())
    if converged is None:
        report(f"{name} DynapSim converges", False, steps)
        return
    dt_us, theirs = converged
    ratio = ours.sum() / theirs.sum()
    correlation = float(np.corrcoef(ours, theirs)[0, 1])
    report(f"{name} chip model within 5% of DynapSim (inhibition off)", abs(ratio - 1) <= 0.05,
           f"ours {ours.sum()} spikes in 1 s ({record['chip_model_seconds']:.1f} s), DynapSim "
           f"{theirs.sum()} at {dt_us} µs (converged: {steps}); ratio {ratio:.3f}, per-neuron "
           f"correlation {correlation:.3f}")


def main(out: Path) -> int:
    for directory in sorted(p for p in out.iterdir() if p.is_dir()):
        name = directory.name
        ours = check_round_trip(name, directory)
        check_apply(name, directory, ours)
        check_monitor(name, directory)
        if "dynapsim" in json.loads((directory / "check.json").read_text()):
            check_dynapsim(name, directory)
    print(f"{'FAILED: ' + ', '.join(FAILED) if FAILED else 'all checks passed'}")
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
