"""ci/neurodamus-suite REFERENCE_REPOSITORY [--only SUBSTRING] [--work DIR]: every case, one
table line each (held / NOT HELD with the assertions that failed and why), then the tests not
run here, then the count."""

import argparse
import shutil
import sys
import tempfile
import traceback
from pathlib import Path

from . import balance, cli_opts, lfp, reports, scientific, unit_mpi  # noqa: F401  (register)
from .context import CASES, Context, RunFailed
from .not_ported import NOT_PORTED
from .outputs import REFERENCE_TOO


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("reference", type=Path)
    parser.add_argument("--only", default="")
    parser.add_argument("--work", type=Path)
    args = parser.parse_args()
    if not (args.reference / "tests" / "simulations").is_dir():
        sys.exit(f"neurodamus-suite: {args.reference} has no tests/simulations")
    work = args.work or Path(tempfile.mkdtemp(prefix="neurodamus-suite-"))
    work.mkdir(parents=True, exist_ok=True)
    context = Context(args.reference.resolve(), work)
    held_tests = total = as_reference = 0
    for test_id, function in sorted(CASES, key=lambda entry: entry[0]):
        if args.only not in test_id:
            continue
        total += 1
        try:
            results = function(context)
        except RunFailed as error:
            results = [("the run", False, f"our run failed: {error}")]
        except Exception as error:  # noqa: BLE001  (a broken case is one line of the table)
            results = [("reading the outputs", False,
                        f"{type(error).__name__}: {error}"[:300])]
            traceback.print_exc(file=sys.stderr)
        failed = [(name, why) for name, ok, why in results if not ok]
        held_tests += not failed
        like_reference = bool(failed) and all(REFERENCE_TOO in why for _, why in failed)
        as_reference += like_reference
        status = "held" if not failed else \
            "not held, as by the reference here" if like_reference else "NOT HELD"
        print(f"| {test_id} | {status} ({len(results) - len(failed)}/{len(results)}) | "
              + "; ".join(f"{name}: {why}" for name, why in failed) + " |", flush=True)
    for test_id, why in NOT_PORTED.items():
        if args.only in test_id:
            print(f"| {test_id} | not run | {why} |")
    print(f"{held_tests} of {total} tests held; {as_reference} more not held by the reference "
          f"neurodamus either on this machine (work directory {work})")
    if not args.work:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
