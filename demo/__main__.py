"""python -m demo run [--port N] | stop"""
import argparse
import logging
import sys

from demo import launcher


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m demo", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="start the embedded demo and the dashboard")
    run.add_argument("--port", type=int, default=8501)
    commands.add_parser("stop", help="stop what `run` started")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    if args.command == "run":
        return launcher.run(args.port)
    return launcher.stop()


if __name__ == "__main__":
    sys.exit(main())
