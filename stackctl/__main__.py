"""python -m stackctl <command> ... (see README.md and docs/)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from settings import SettingsError, load_stack_file
from stackctl import dashboards_cmd, loadgen_cmd, up_local
from artifacts import render_all


def cmd_render(args: argparse.Namespace) -> int:
    settings = load_stack_file(args.config)
    out = Path(args.out)
    for rel, text in render_all(settings).items():
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        print(path)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="stackctl")
    sub = parser.add_subparsers(dest="command", required=True)
    render = sub.add_parser("render", help="write every artifact for a stack file")
    render.add_argument("--config", required=True, help="a Pulumi.<stack>.yaml")
    render.add_argument("--out", required=True, help="output directory")
    render.set_defaults(func=cmd_render)
    loadgen_cmd.add_parser(sub)
    dashboards_cmd.add_parser(sub)
    up_local.add_parser(sub)
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
