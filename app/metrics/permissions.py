"""Who may read the response-time KPIs: the dashboard and the metrics API alike."""

from __future__ import annotations

from app.auth.roles import SUPERVISORS

#: managers and admins see every department, so they read every department's figures
READERS = SUPERVISORS
