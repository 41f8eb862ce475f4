"""Reports: the self-contained HTML report, the clinician evidence card, and the files of a run.

Everything here renders an :class:`~metapool.analysis.Analysis`; no number is
computed or typed in a template.
"""
