"""Entry point of the ``turbodicom`` command: ``turbodicom [--version] <command> ...``.

Each subcommand is a module of :mod:`turbodicom.cli` with ``add_parser(subparsers)``
and ``run(args)`` (see the package docstring); adding one is one line in
:data:`COMMANDS`. Run as ``turbodicom ...`` or ``python -m turbodicom.cli.main ...``.
"""

from __future__ import annotations

import argparse
import importlib
import os
import platform
import sys
from collections.abc import Sequence

#: Subcommand modules, in the order ``turbodicom --help`` lists them.
COMMANDS: tuple[str, ...] = (
    "turbodicom.cli.demo",
    "turbodicom.cli.dump",
    "turbodicom.cli.scan",
    "turbodicom.cli.decode",
    "turbodicom.cli.transcode",
    "turbodicom.cli.echoscu",
    "turbodicom.cli.storescu",
    "turbodicom.cli.storescp",
    "turbodicom.cli.qrscp",
    "turbodicom.cli.findscu",
    "turbodicom.cli.movescu",
    "turbodicom.cli.getscu",
    "turbodicom.cli.index",
)


def _version() -> str:
    import pydicom

    import turbodicom

    return (
        f"turbodicom {turbodicom.__version__} "
        f"(pydicom {pydicom.__version__}, Python {platform.python_version()})"
    )


def build_parser() -> argparse.ArgumentParser:
    """The parser of the whole command, with every subcommand in :data:`COMMANDS`."""
    parser = argparse.ArgumentParser(
        prog="turbodicom",
        description="Fast DICOM for Python: C++ parsing that returns pydicom datasets.",
    )
    parser.add_argument("--version", action="version", version=_version())
    subparsers = parser.add_subparsers(title="commands", metavar="<command>")
    for module_name in COMMANDS:
        module = importlib.import_module(module_name)
        sub = module.add_parser(subparsers)
        sub.set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line `argv` (default ``sys.argv[1:]``); returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    run = getattr(args, "_run", None)
    if run is None:
        parser.print_help(sys.stderr)
        return 2
    from turbodicom.errors import InvalidDicomError

    try:
        return int(run(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (``turbodicom ... | head``): stop quietly.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except (InvalidDicomError, OSError) as exc:
        print(f"turbodicom: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
