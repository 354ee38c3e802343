"""The ``turbodicom`` command.

``main.py`` builds an argparse parser with one subcommand per module of this
package. A subcommand module defines two functions::

    def add_parser(subparsers) -> argparse.ArgumentParser:
        parser = subparsers.add_parser("name", help="one line for the list")
        parser.add_argument(...)
        return parser

    def run(args: argparse.Namespace) -> int:   # the exit status
        ...

and is listed once in ``main.COMMANDS``. Modules import what only they need
inside ``run`` so that ``turbodicom --help`` stays quick. Long loops report
through ``progress.track`` / ``progress.Progress``, which draw on stderr only
when it is a terminal.
"""
