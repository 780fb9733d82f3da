"""``python -m bench SECTION [options]``: run one benchmark section, print its tables, write its JSON.

Sections are found, not listed: every public module of this package with ``TITLE``, ``add_arguments`` and
``run`` (see :mod:`bench`). Adding ``bench/ingest.py`` of that shape makes ``python -m bench ingest`` work.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from types import ModuleType

import bench


def sections() -> dict[str, ModuleType]:
    """Every benchmark section module by name."""
    found: dict[str, ModuleType] = {}
    for info in pkgutil.iter_modules(bench.__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"bench.{info.name}")
        if all(hasattr(module, attr) for attr in ("TITLE", "add_arguments", "run")):
            found[info.name] = module
    return dict(sorted(found.items()))


def main(argv: list[str] | None = None) -> int:
    available = sections()
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--no-json", action="store_true", help="print only, write no JSON under bench/results/"
    )
    parser = argparse.ArgumentParser(
        prog="python -m bench", description="Gateway benchmarks, one section per run."
    )
    sub = parser.add_subparsers(dest="section", metavar="SECTION")
    for name, module in available.items():
        section = sub.add_parser(name, help=module.TITLE, description=module.TITLE, parents=[common])
        module.add_arguments(section)
    args = parser.parse_args(argv)
    if args.section is None:
        parser.print_help()
        return 2
    report: bench.Report = available[args.section].run(args)
    print(report.render())
    if not args.no_json:
        path = bench.write_json(report)
        print(f"\nJSON: {path.relative_to(bench.REPO) if path.is_relative_to(bench.REPO) else path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
