"""The bot report: what the honeypot saw, summed up from the event log.

L{bbs.report.reading} reads the log into a L{Report} (L{bbs.report.values}),
in bounded memory whatever bots wrote; L{bbs.report.render} shows it as
escaped text for the sysop's terminal or as JSON.  C{hfnjbbs-admin report}
imports the report's names from here, its entry point.
"""

from bbs.report.reading import DEFAULT_TOP, MAX_TOP, build_report, log_files, parse_since
from bbs.report.render import WIDTH, report_dict, report_json, report_text
from bbs.report.values import (
    Count, Credential, Download, Recording, Report, ReportError, Sample,
)

__all__ = [
    "DEFAULT_TOP", "MAX_TOP", "WIDTH",
    "Count", "Credential", "Download", "Recording", "Report", "ReportError", "Sample",
    "build_report", "log_files", "parse_since", "report_dict", "report_json", "report_text",
]
