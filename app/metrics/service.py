"""The metrics feature's verbs, one import away; each lives in the module of its subject.

- exact: response times computed exactly from the raw requests (drill-down);
- kpis: every KPI per group or period, summed from the rollups;
- backlog: the open backlog now, by age and on the map;
- targets: managers' targets and the scorecard;
- rollup: keeping the rollup tables current.
"""

from __future__ import annotations

from app.metrics.backlog import aging, open_by_group, points
from app.metrics.exact import GROUP_BYS, KpiRow, ResponseTimes, response_times
from app.metrics.kpis import Figures, Report, by_group, trend
from app.metrics.rollup import last_refreshed, rebuild, refresh
from app.metrics.targets import all_targets, delete_target, rag, scorecard, set_target

__all__ = [
    "GROUP_BYS",
    "Figures",
    "KpiRow",
    "Report",
    "ResponseTimes",
    "aging",
    "all_targets",
    "by_group",
    "delete_target",
    "last_refreshed",
    "open_by_group",
    "points",
    "rag",
    "rebuild",
    "refresh",
    "response_times",
    "scorecard",
    "set_target",
    "trend",
]
