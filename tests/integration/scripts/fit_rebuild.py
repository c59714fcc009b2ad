"""Evaluate fit candidates in one process, as `neurodamus fit` does, and save what each
candidate's run recorded: `fit_rebuild.py SPEC OUT.npz I,J,...` evaluates the spec's points
given by index (0: the initial values; k > 0: every parameter at `k`/10 of its [0, 1] scale),
one after another on the same rank group, and saves each one's traces, spikes and loss,
and how many NEURON sections were left once it was torn down."""

import sys

import libsonata
import numpy as np

from neurodamus.fit.command import _prepare
from neurodamus.fit.evaluate import Evaluator, RankGroups
from neurodamus.fit.spec import load_fit_spec
from neurodamus.options import SimulationOptions
from neurodamus.parallel import init_parallel


def main(spec_path, out, indices):
    parallel = init_parallel()
    from neuron import h  # after init_parallel: NEURON must load mpi4py's MPI

    spec = load_fit_spec(spec_path)
    base, data, _ = _prepare(spec, (), None)
    groups = RankGroups(parallel, spec.ranks_per_candidate)
    evaluator = Evaluator(spec, base, groups, data, SimulationOptions(progress=False), None)
    x0 = np.array([p.to_unit(p.initial) for p in spec.parameters])
    points = [x0 if i == 0 else np.full(x0.size, i / 10) for i in indices]
    arrays = {}
    for n, point in enumerate(points):
        result = evaluator.evaluate([point])[0]  # one at a time: all on group 0's ranks
        left = parallel.allreduce_sum(sum(1 for _ in h.allsec()))
        if parallel.is_root:
            for name, traces in result.outputs.items():
                arrays[f"traces_{name}_{n}"] = traces.data
            spikes = libsonata.SpikeReader(str(evaluator.work / "output" / "out.h5"))
            for population in spikes.get_population_names():
                arrays[f"spikes_{population}_{n}"] = np.asarray(spikes[population].get())
            arrays[f"loss_{n}"] = np.array(result.loss)
            arrays[f"sections_left_{n}"] = np.array(left)
    if parallel.is_root:
        np.savez(out, **arrays)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], [int(i) for i in sys.argv[3].split(",")])
