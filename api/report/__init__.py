"""The run's report: five charts as PNG and one self-contained report.html."""

from api.report.build import CHARTS, Report, build_report

__all__ = ["CHARTS", "Report", "build_report"]
