"""``metapool audit``: check the numbers that an abstract, a digest or a manuscript reports.

Reads a text, HTML, Word or PDF file (or standard input), runs :func:`metapool.audit.audit` and prints
a table of findings (or the ``--json`` document), optionally writing the highlighted text as an HTML
page. Exit status: 0 when no number is flagged, 1 when one is (a flag of a wording check, such as a spread
given where a CI is expected, does not count), 2 on bad input.
"""

from __future__ import annotations

import argparse
import json

from .options import add_encoding_argument

__all__ = ["add_audit_parser", "run_audit"]


def add_audit_parser(sub) -> argparse.ArgumentParser:
    """Add the ``audit`` subcommand to the subparsers ``sub``."""
    audit = sub.add_parser(
        "audit",
        help="check the numbers an abstract, a digest or a manuscript reports",
        description=(
            "Extract every reported statistic of a text (percentages and ratios with their CIs, I² with Q,"
            " p-values, numbers of studies and patients, follow-up, evidence levels) and check that they"
            " agree with each other; with --data, recompute the pooled estimates from the review's study"
            " table. Exit status: 0 nothing flagged, 1 something flagged, 2 bad input. See docs/audit.md."
        ),
        epilog="The checks: metapool list checks.",  # not imported here: every command builds this parser
    )
    audit.add_argument("file", metavar="FILE|-",
                       help="plain text, HTML, Word (.docx) or PDF file; - reads standard input")
    audit.add_argument("--data", metavar="ANALYSIS.toml",
                       help="the review's analysis file: recompute each reported pooled estimate from its study"
                            " table under the usual choices (measures, tau^2 estimators, tests, GLMM)")
    audit.add_argument("--json", action="store_true",
                       help="print one JSON object: findings (quote, span, check, status, reason,"
                            " consistent_value), statistics, counts")
    audit.add_argument("--html", metavar="OUT.html",
                       help="also write the text with the findings highlighted as a standalone HTML page"
                            " (its folder must exist; never an input file)")
    add_encoding_argument(audit, "a text or HTML file")
    return audit


def run_audit(args: argparse.Namespace) -> int:
    """Run ``metapool audit``: 1 when a number is flagged (wording flags aside), else 0; bad input exits 2."""
    from ..audit.checks import errors
    from ..audit.pipeline import audit
    from ..audit.render import print_table, render_page
    from ..audit.sources import read_source
    from ..io.outputs import atomic_file, check_output_file

    inputs = [] if args.file == "-" else [args.file]
    spec = None
    if args.data is not None:
        from ..spec import load_spec

        spec = load_spec(args.data)
        inputs += [str(p) for p in spec.input_files]
    target = check_output_file(args.html, inputs) if args.html else None
    text, source = read_source(args.file, encoding=args.encoding)
    result = audit(text, data=spec, source=source)
    if target is not None:
        with atomic_file(target) as tmp:
            tmp.write_text(render_page(result), encoding="utf-8")
    if args.json:
        print(json.dumps(result.to_dict(), indent=2))
    else:
        print_table(result)
    return 1 if errors(result.findings) else 0
