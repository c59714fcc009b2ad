"""Why building a cell slows down with the cells already on the rank:

    python -m benchmarks.hoc_name_lookup [--counts 0 800 3200]

BBP e-model templates distribute channel densities by distance with one hoc statement per
segment, `execute("<secname()>.<var>(<x>) = <value>")`, and secname() inside a template is
`Template[index].section[k]`. NEURON resolves `Template[index]` by walking the template's
instances, so each statement costs time in proportion to the instances of the same template
on the rank (`emodel_steps --bin 100`: the template's set_parameters step grows from 7 to
51 ms per cell from the first to the 800th cell; the driver's own steps stay flat). This
prints the time of one such statement naming the first and the newest of N instances of one
template (with as many instances of another template on the rank, which cost nothing).
Not a test.
"""

import argparse
import time

TEMPLATES = """
begintemplate NdLookupA
public soma
create soma
proc init() { soma insert pas }
endtemplate NdLookupA
begintemplate NdLookupB
public soma
create soma
endtemplate NdLookupB
"""


def per_statement_us(h, name: str, repeats: int = 2000) -> float:
    statement = f"{name}.g_pas(0.5) = 1e-5"
    started = time.perf_counter()
    for _ in range(repeats):
        h.execute(statement)
    return (time.perf_counter() - started) / repeats * 1e6


def main(argv=None):
    parser = argparse.ArgumentParser(prog="hoc_name_lookup", description=__doc__.split("\n\n")[0])
    parser.add_argument("--counts", type=int, nargs="+", default=[0, 800, 3200])
    args = parser.parse_args(argv)
    from neuron import h

    h(TEMPLATES)
    same: list = [h.NdLookupA()]
    other: list = []
    print("instances   one statement naming the first / the newest instance [us]")
    for count in sorted(args.counts):
        while len(same) < count + 1:
            same.append(h.NdLookupA())
        while len(other) < count:
            other.append(h.NdLookupB())
        newest = int(same[-1].hname().split("[")[1].rstrip("]"))
        print(f"{count:9d}   {per_statement_us(h, 'NdLookupA[0].soma'):12.1f} / "
              f"{per_statement_us(h, f'NdLookupA[{newest}].soma'):6.1f}")


if __name__ == "__main__":
    main()
