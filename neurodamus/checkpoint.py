"""Save and restore the full state of a run, per cell, so a run can continue on any rank count.

A checkpoint directory holds:
- `binbufin/global.<size>` (the time) and `binbufin/<gid>.<size>` per cell, each with a
  `.size` file: NEURON's binary BBSaveState buffers (save_test_bin), gathered from every
  rank, the layout BBSaveState.restore_test_bin reads. Binary, not the text files of
  save_test: those print every double with %22.15g, 15 significant digits, which does not
  round-trip (17 are needed), so a restored run starts ~1e-16 (relative) off in every
  voltage, state, event time and RANDOM position, and a network amplifies that into
  spikes one step apart;
- `extra.npz`: what BBSaveState does not save: positions of the Random123 streams of
  every synapse, keyed by (gid, synapse index), and the spikes recorded so far;
- `manifest.json`: circuit config, node set, population offsets, time, rank count and
  the checksum of every file.
Replayed spikes are not in it: none is queued where a window ends (replay.SpikeReplay
queues each window's own), and a restore queues the rest from the spike file. What
BBSaveState would abort on is refused first, with one error (queue_problems).
A checkpoint is written under a temporary name inside the save directory and then made
current by replacing `LATEST` (an atomic rename), so a run killed while saving leaves the
previous checkpoint usable.

Checkpoints do not depend on the solver: NEURON writes and reads them between run windows
under both. CoreNEURON (direct mode) hands the whole state back to NEURON after every
window (voltages, mechanism states, Random123 stream positions, gap voltages, the event
queue), so a checkpoint written under one solver restores under the other, and a
restore done in NEURON is what the next CoreNEURON window starts from.
"""

import hashlib
import json
import os
import shutil
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from .errors import NeurodamusError
from .faults import inject
from .reports.recorder import snapshot_name

MANIFEST = "manifest.json"
LATEST = "LATEST"
BUFFERS_OUT, BUFFERS_IN = "binbufout", "binbufin"  # BBSaveState's fixed binary folders
FORMAT_VERSION = 2  # 2: binary BBSaveState buffers (1: text, inexact)


class CheckpointError(NeurodamusError):
    """A checkpoint that is missing, damaged, or does not belong to this simulation."""


@contextmanager
def _working_directory(path: Path):
    """BBSaveState reads and writes relative to the working directory."""
    previous = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(previous)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _edge_counts(settings) -> dict:
    import libsonata

    return {e.name: libsonata.EdgeStorage(str(e.edges_file)).open_population(e.name).size
            for e in settings.circuit.edge_populations}


def identity(settings, circuit) -> dict:
    """What a checkpoint must share with the simulation that restores it (cheap to compute:
    population sizes and edge counts, not file contents)."""
    return {
        "circuit_config": str(settings.circuit.config_file),
        "node_set": settings.node_set,
        "offsets": circuit.offsets(),
        "population_sizes": {name: p.size for name, p in circuit.populations.items()},
        "edge_counts": _edge_counts(settings),
        "inputs": sorted([i.name, i.module, i.node_set or ""] for i in settings.inputs),
        "connection_overrides": len(settings.connection_overrides),
        "dt": settings.run.dt,
    }


def resolve(directory: Path) -> Path:
    """The checkpoint to restore: `directory` itself or the one its LATEST names."""
    directory = Path(directory)
    if (directory / MANIFEST).is_file():
        return directory
    latest = directory / LATEST
    if not latest.is_file():
        raise CheckpointError(f"no checkpoint in {directory} (neither {MANIFEST} nor {LATEST})")
    return directory / latest.read_text().strip()


MANIFEST_KEYS = ("format", "time", "ranks", "identity", "checksums")


def read_manifest(path: Path) -> dict:
    """The manifest as a dict with the keys restoring needs; anything else is one
    CheckpointError naming the file (not a JSON traceback)."""
    try:
        manifest = json.loads(Path(path).read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise CheckpointError(f"checkpoint manifest {path} is not valid JSON: {error}") from None
    if not isinstance(manifest, dict):
        raise CheckpointError(f"checkpoint manifest {path} is not a JSON object")
    missing = [key for key in MANIFEST_KEYS if key not in manifest]
    if missing:
        raise CheckpointError(f"checkpoint manifest {path} lacks {', '.join(missing)}")
    return manifest


def _gap_voltages(cells):
    """The partner voltage each half-junction holds: NEURON transfers it during a step for
    the next one, and BBSaveState does not save it."""
    rows = [(key, gap.vgap) for cell in cells for key, gap in cell.gap_junctions]
    return np.array(rows, dtype=np.float64).reshape(-1, 2)


def _synapse_stream_positions(cells):
    rows = []
    for cell in cells:
        for index, synapse in enumerate(cell.synapses):
            if synapse.model is None or not synapse.model.has_minis:
                continue  # models whose mechanism saves its own streams (bbsavestate)
            mechanism = synapse.point_process
            rows.append((cell.gid, index, mechanism.release_rng.get_seq(),
                         mechanism.minis_rng.get_seq()))
    return np.array(rows, dtype=np.float64).reshape(-1, 4)


SPIKE_SEPARATION = 0.1  # ms: BBSaveState's least time between two spikes of one source


def queue_problems(h, pending_replay: int = 0) -> list[str]:
    """What in NEURON's event queue BBSaveState would abort on (or silently lose), as
    sentences; [] when it can be saved. BBSaveState writes every pending NetCon event as a
    spike of the NetCon's source gid, sent at (due - delay) (bbsavestate.cpp tqcallback):
    - two such spike times of one source more than 1e-12 ms but at most 0.1 ms apart end
      the job with `Assertion '0' failed`;
    - an event on a NetCon with no source (NetCon.event) is not written: the restore would
      miss it;
    - an event due before t still queued (mk_presyn_info asserts there is none; the played
      Vectors' events, which Python cannot list, are kept in the future by
      stimuli.sources.pinned);
    - `pending_replay`: replayed events queued and not yet delivered (replay.SpikeReplay
      queues by window, so none is pending where a window ends)."""
    problems = []
    if pending_replay:
        problems.append(f"{pending_replay} replayed spike events are still queued")
    times, netcons = h.Vector(), h.List()
    h.CVode().event_queue_info(2, times, netcons)  # the pending NetCon events
    sent: dict[int, list[float]] = {}
    sourceless = 0
    for due, netcon in zip(times, netcons):
        gid = int(netcon.srcgid())
        if gid < 0 and netcon.pre() is None and netcon.preseg() is None:
            sourceless += 1
        elif gid >= 0:
            sent.setdefault(gid, []).append(due - netcon.delay)
    if sourceless:
        problems.append(f"{sourceless} events on NetCons without a source are queued "
                        "(BBSaveState does not write them)")
    late = sum(1 for due in times if due < h.t)
    self_times, flags, targets = h.Vector(), h.Vector(), h.List()
    h.CVode().event_queue_info(3, self_times, flags, targets)  # the pending self events
    late += sum(1 for due in self_times if due < h.t)
    if late:
        problems.append(f"{late} events due before t are still queued (BBSaveState aborts "
                        "on any, mk_presyn_info)")
    for gid, spike_times in sorted(sent.items()):
        ordered = np.sort(np.asarray(spike_times))
        gaps = np.diff(ordered)
        close = np.flatnonzero((gaps > 1e-12) & (gaps <= SPIKE_SEPARATION))
        if close.size:
            first = close[0]
            problems.append(f"gid {gid} has spikes in flight at {ordered[first]!r} and "
                            f"{ordered[first + 1]!r} ms, less than {SPIKE_SEPARATION} ms apart "
                            "(BBSaveState aborts on that)")
            break
    return problems


class Checkpointer:
    """Writes and reads checkpoints for one Simulation (all ranks call each method)."""

    def __init__(self, h, parallel, settings, circuit, cells, mechanism_digests=None):
        self.h, self.parallel = h, parallel
        self.settings, self.circuit, self.cells = settings, circuit, cells
        self.mechanism_digests = dict(mechanism_digests or {})  # mod file -> code digest

    # -- save ------------------------------------------------------------------------------

    def save(self, save_dir: Path, spikes_so_far, reports=(), pending_replay: int = 0,
             keep: int = 1) -> Path:
        """Save the state at the current time into a new checkpoint under `save_dir`;
        `reports` (frame report hooks) add their frames so far. What BBSaveState would abort
        on is one error on every rank first (queue_problems), and nothing is written."""
        parallel, h = self.parallel, self.h
        parallel.agree(self._check_queue, pending_replay)
        save_dir = Path(save_dir).resolve()
        name = f"checkpoint-t{h.t:.3f}"
        staging = save_dir / f".{name}.partial"
        if parallel.is_root:
            save_dir.mkdir(parents=True, exist_ok=True)
            shutil.rmtree(staging, ignore_errors=True)
            (staging / "parts" / BUFFERS_OUT).mkdir(parents=True)  # save_test_bin makes none
        parallel.barrier()
        with _working_directory(staging / "parts"):
            h.BBSaveState().save_test_bin()  # whole cells: one buffer per gid, bit-exact
        times, gids = spikes_so_far
        np.savez(staging / "parts" / f"extra.{parallel.rank}.npz",
                 streams=_synapse_stream_positions(self.cells), gaps=_gap_voltages(self.cells),
                 spike_times=times, spike_gids=gids)
        frames = {report.name: report.snapshot(staging / "parts" / "reports")
                  for report in reports if hasattr(report, "snapshot")}
        inject("kill-in-save", parallel.rank)
        parallel.barrier()
        if parallel.is_root:
            self._assemble(staging, name, frames)
            self._make_current(save_dir, staging, name, keep)
        parallel.barrier()
        return save_dir / name

    def _check_queue(self, pending_replay: int):
        problems = queue_problems(self.h, pending_replay)
        if problems:
            raise CheckpointError(f"cannot save a checkpoint at t = {self.h.t:.3f} ms: "
                                  + "; ".join(problems))

    def _assemble(self, staging: Path, name: str, report_frames: dict):
        # Every gid lives whole on one rank, so its buffer names (gid and byte count) are
        # unique across ranks: the ranks' files already form restore_test_bin's layout.
        (staging / "parts" / BUFFERS_OUT).rename(staging / BUFFERS_IN)
        extras = [np.load(p) for p in sorted((staging / "parts").glob("extra.*.npz"))]
        np.savez(staging / "extra.npz",
                 streams=np.concatenate([e["streams"] for e in extras]),
                 gaps=np.concatenate([e["gaps"] for e in extras]),
                 spike_times=np.concatenate([e["spike_times"] for e in extras]),
                 spike_gids=np.concatenate([e["spike_gids"] for e in extras]))
        if (staging / "parts" / "reports").is_dir():
            (staging / "parts" / "reports").rename(staging / "reports")
        shutil.rmtree(staging / "parts")
        files = sorted(p for p in staging.rglob("*") if p.is_file())
        manifest = {
            "format": FORMAT_VERSION, "time": self.h.t, "ranks": self.parallel.size,
            "identity": identity(self.settings, self.circuit),
            "mechanisms": self.mechanism_digests,
            "reports": {name: {"frames": frames} for name, frames in report_frames.items()},
            "checksums": {str(p.relative_to(staging)): _sha256(p) for p in files},
        }
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=2))

    @staticmethod
    def _make_current(save_dir: Path, staging: Path, name: str, keep: int = 1):
        """Rename the staged checkpoint to `name`, point LATEST at it (atomically), then
        remove the checkpoints made before it beyond the `keep` newest (by the time they
        were written, not their simulated time: a new run may save earlier times)."""
        final = save_dir / name
        if final.exists():
            shutil.rmtree(final)
        staging.rename(final)
        pointer = save_dir / f".{LATEST}.partial"
        pointer.write_text(name + "\n")
        os.replace(pointer, save_dir / LATEST)  # the switch: atomic
        older = sorted((p for p in save_dir.glob("checkpoint-t*")
                        if p.name != name and (p / MANIFEST).is_file()),
                       key=lambda p: (p / MANIFEST).stat().st_mtime_ns, reverse=True)
        for previous in older[keep - 1:]:
            shutil.rmtree(previous, ignore_errors=True)

    # -- restore ---------------------------------------------------------------------------

    def check(self, checkpoint: Path) -> dict:
        """Read and verify the manifest; refuse a checkpoint of another simulation."""
        manifest_path = checkpoint / MANIFEST
        if not manifest_path.is_file():
            raise CheckpointError(f"{checkpoint} has no {MANIFEST}")
        manifest = read_manifest(manifest_path)
        if manifest.get("format") != FORMAT_VERSION:
            raise CheckpointError(f"{checkpoint}: format {manifest.get('format')} is not "
                                  f"{FORMAT_VERSION}")
        current = identity(self.settings, self.circuit)
        differences = [f"{key}: checkpoint has {manifest['identity'].get(key)!r}, this run has "
                       f"{value!r}" for key, value in current.items()
                       if manifest["identity"].get(key) != value]
        if differences:
            raise CheckpointError(f"checkpoint {checkpoint} was made for another simulation: "
                                  + "; ".join(differences))
        self._check_mechanisms(checkpoint, manifest.get("mechanisms") or {})
        if manifest["time"] >= self.settings.run.tstop:
            raise CheckpointError(f"checkpoint {checkpoint} is at t = {manifest['time']} ms, not "
                                  f"before run.tstop = {self.settings.run.tstop} ms")
        return manifest

    def _check_mechanisms(self, checkpoint: Path, saved: dict):
        """A mod file both runs compiled must have the same code (comments aside): BBSaveState
        would otherwise read the saved values into another layout and abort inside NEURON.
        Files only one side has, and checkpoints older than this record, are not compared."""
        changed = sorted(name for name, digest in self.mechanism_digests.items()
                         if name in saved and saved[name] != digest)
        if changed:
            raise CheckpointError(f"checkpoint {checkpoint} was saved with other code in "
                                  f"{', '.join(changed)}: restore with the mod files it was "
                                  "saved with, or start the run again")

    def verify_files(self, checkpoint: Path, manifest: dict):
        for relative, checksum in manifest["checksums"].items():
            path = checkpoint / relative
            if not path.is_file() or _sha256(path) != checksum:
                raise CheckpointError(f"checkpoint {checkpoint} is damaged: {relative} "
                                      "is missing or differs from its checksum")

    def resume_reports(self, checkpoint: Path, reports):
        """Frame reports continue: the frames before the checkpoint come from its copies."""
        manifest = json.loads((checkpoint / MANIFEST).read_text())
        ranks = manifest["ranks"]
        for report in (r for r in reports if hasattr(r, "resume")):
            saved = manifest.get("reports", {}).get(report.name)
            if saved is not None:
                snapshots = [checkpoint / "reports" / snapshot_name(report.path, r)
                             for r in range(ranks)]
                report.resume(saved["frames"], snapshots)

    def restore(self, checkpoint: Path):
        """After finitialize: load every local cell's state, the streams and the time."""
        state = self.h.BBSaveState()
        with _working_directory(checkpoint):
            state.restore_test_bin()
        self.h.t = json.loads((checkpoint / MANIFEST).read_text())["time"]  # the same, exactly
        state.vector_play_init()  # played Vectors (stimulus waveforms) resume at h.t
        extra = np.load(checkpoint / "extra.npz")
        streams = extra["streams"]
        local = {cell.gid for cell in self.cells}  # every rank reads only its own cells' rows
        streams = streams[np.isin(streams[:, 0].astype(np.int64), list(local))]
        positions = {(int(g), int(i)): (r, m) for g, i, r, m in streams}
        for cell in self.cells:
            for index, synapse in enumerate(cell.synapses):
                if synapse.model is None or not synapse.model.has_minis:
                    continue
                release, minis = positions[(cell.gid, index)]
                synapse.point_process.release_rng.set_seq(release)
                synapse.point_process.minis_rng.set_seq(minis)
        partner_voltage = {int(key): v for key, v in extra["gaps"]}
        for cell in self.cells:
            for key, gap in cell.gap_junctions:
                gap.vgap = partner_voltage[key]
        return extra["spike_times"], extra["spike_gids"].astype(np.int64)
