"""`python -m stackctl dashboards render | lint | diff`: the pull-request loop for dashboards."""
from __future__ import annotations

import argparse
import sys

from dashboards import lint, review


def add_parser(sub) -> None:
    p = sub.add_parser("dashboards", help="render, lint or diff the dashboards (see docs/development.md: adding a panel)")
    p.add_argument("action", choices=("render", "lint", "diff"),
                   help="render: rewrite dashboards/generated/ and alerts/generated/; lint: check every query and "
                        "panel; diff: what changed against the base branch (--base), panel by panel and alert by "
                        "alert")
    p.add_argument("--base", default="",
                   help="diff: the base branch or commit (e.g. origin/main); compared at its merge-base with HEAD. "
                        "Empty: against the committed files of the working tree")
    p.set_defaults(func=cmd_dashboards)


def cmd_dashboards(args: argparse.Namespace) -> int:
    if args.action == "render":
        for path in review.write():
            print(path)
        return 0
    if args.action == "lint":
        problems = lint.lint(review.fresh())
        for line in problems:
            print(line, file=sys.stderr)
        print(f"{len(problems)} problem(s) in {len(review.fresh())} dashboards")
        return 1 if problems else 0
    if args.base:
        base_boards, base_rules = review.at_ref(review.merge_base(args.base))
    else:
        base_boards, base_rules = review.committed(), review.committed_rules()
    print("\n".join(review.report(base_boards, base_rules, review.fresh(), review.fresh_rules())))
    return 0
