"""python -m devstack {demo,reset,env,setup,run,npm}: the shop on one machine, with only Python.

`setup` and `run` use the servers the environment points at: containers use them.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from devstack.demo import DATA_DIR, ROOT, print_env, reset, run_demo, run_setup
from devstack.npm import fetch_file
from devstack.processes import DevstackError
from devstack.procfile import exec_process


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack", description=__doc__)
    parser.add_argument(
        "--data-dir", type=Path, default=DATA_DIR, help="servers' data, logs and pid files (var/)"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser(
        "demo", help="start servers for the URLs not configured, set up, run every process"
    )
    demo.add_argument(
        "--procfile", type=Path, default=ROOT / "Procfile", help="process types to run"
    )
    demo.add_argument(
        "--skip-setup", action="store_true", help="skip migrate, create_topics and the seeding"
    )
    commands.add_parser("reset", help="delete the data folder (refused while a demo runs)")
    commands.add_parser("env", help="print `export` lines for the running demo's URLs")
    commands.add_parser(
        "setup", help="migrate, create topics and seed, against the configured servers"
    )
    run = commands.add_parser("run", help="exec one Procfile process type, e.g. `run web`")
    run.add_argument("process_type")
    npm = commands.add_parser(
        "npm", help="fetch one file of a pinned npm package, verified by its integrity hash"
    )
    for name in ("package", "version", "integrity", "member", "dest"):
        npm.add_argument(name)
    args = parser.parse_args(argv)
    data_dir = args.data_dir.resolve()
    try:
        if args.command == "demo":
            return run_demo(args.procfile, data_dir, setup=not args.skip_setup)
        if args.command == "reset":
            return reset(data_dir)
        if args.command == "setup":
            run_setup(os.environ)
            return 0
        if args.command == "run":
            exec_process(args.process_type)
        if args.command == "npm":
            fetch_file(args.package, args.version, args.integrity, args.member, Path(args.dest))
            return 0
        return print_env(data_dir)
    except DevstackError as error:
        print(f"devstack: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("devstack: interrupted; everything it started has been stopped.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
