"""The ``labkit`` command (also ``python -m labkit``): doctor, lab, reset."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="labkit", description="TF Training Lab helper commands.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("doctor", help="check that this machine is ready for the lab")
    lab = sub.add_parser("lab", help="open JupyterLab (127.0.0.1, token on) on the start notebook")
    lab.add_argument("--port", type=int, default=8888)
    lab.add_argument("--no-browser", action="store_true")
    lab.add_argument("--lang", choices=["en", "zh_CN"], default="en",
                     help="zh_CN: the Chinese edition (notebooks/zh_CN/) with JupyterLab's menus in Chinese")
    reset = sub.add_parser("reset", help="delete notebooks' logs, checkpoints and exported models")
    reset.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    args = parser.parse_args(argv)
    if args.command == "doctor":
        from labkit.tooling.doctor import main as doctor

        return doctor()
    if args.command == "lab":
        from labkit.tooling.launch import main as lab_main

        if not 0 < args.port < 65536:
            parser.error(f"--port must be in 1..65535, received {args.port}")
        lab_main(args.port, open_browser=not args.no_browser, lang=args.lang)
        return 0
    from labkit.tooling.reset import reset as do_reset

    do_reset(yes=args.yes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
