"""Print the shape figures of a package: files over N lines, functions over M lines, and
the lines and attributes of simulation.py (the figures of docs/architecture.md).

    python ci/code_shape.py [PACKAGE_DIR] [--file-lines 400] [--function-lines 50]
"""

import argparse
import ast
from pathlib import Path


def functions(tree: ast.AST):
    """Every function and method, with its qualified name and length in lines."""
    def walk(node, prefix):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                name = f"{prefix}{child.name}"
                yield name, child.end_lineno - child.lineno + 1
                yield from walk(child, name + ".")
            elif isinstance(child, ast.ClassDef):
                yield from walk(child, f"{prefix}{child.name}.")
            else:
                yield from walk(child, prefix)
    yield from walk(tree, "")


def self_attributes(tree: ast.AST, cls: str) -> dict[str, set[str]]:
    """{attribute: the methods that assign self.attribute} for class `cls`."""
    out: dict[str, set[str]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and node.name == cls:
            for method in node.body:
                if not isinstance(method, ast.FunctionDef):
                    continue
                for sub in ast.walk(method):
                    targets = (sub.targets if isinstance(sub, ast.Assign) else
                               [sub.target] if isinstance(sub, (ast.AnnAssign, ast.AugAssign))
                               else [])
                    for target in targets:
                        if (isinstance(target, ast.Attribute)
                                and isinstance(target.value, ast.Name)
                                and target.value.id == "self"):
                            out.setdefault(target.attr, set()).add(method.name)
    return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("package", nargs="?", default="neurodamus")
    parser.add_argument("--file-lines", type=int, default=400)
    parser.add_argument("--function-lines", type=int, default=50)
    args = parser.parse_args()
    files = sorted(Path(args.package).rglob("*.py"))
    lines = {path: len(path.read_text().splitlines()) for path in files}
    print(f"{len(files)} files, {sum(lines.values())} lines")
    big = sorted(((n, p) for p, n in lines.items() if n > args.file_lines), reverse=True)
    print(f"files over {args.file_lines} lines: {len(big)}")
    for n, path in big:
        print(f"  {n:5d} {path}")
    long = []
    for path in files:
        for name, length in functions(ast.parse(path.read_text())):
            if length > args.function_lines:
                long.append((length, f"{path}:{name}"))
    long.sort(reverse=True)
    print(f"functions over {args.function_lines} lines: {len(long)}")
    for length, where in long:
        print(f"  {length:5d} {where}")
    simulation = Path(args.package) / "simulation.py"
    if simulation.exists():
        attributes = self_attributes(ast.parse(simulation.read_text()), "Simulation")
        outside_init = {a: m for a, m in attributes.items() if m != {"__init__"}}
        print(f"simulation.py: {lines[simulation]} lines, Simulation attributes "
              f"{len(attributes)}, set outside __init__ {len(outside_init)}"
              + (f": {sorted(outside_init)}" if outside_init else ""))


if __name__ == "__main__":
    main()
