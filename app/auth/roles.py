"""Role names: the one place they are spelled. Import these, never the bare strings."""

from __future__ import annotations

AGENT = "agent"
DISPATCHER = "dispatcher"
CREW = "crew"
MANAGER = "manager"
ADMIN = "admin"

#: every staff role, in the order pages list them
ROLES = (AGENT, DISPATCHER, CREW, MANAGER, ADMIN)
#: managers and admins may do what any department's staff may do
SUPERVISORS = (MANAGER, ADMIN)
#: roles tied to one department: they see and act on that department's requests only
DEPARTMENT_BOUND = (DISPATCHER, CREW)
#: who dispatches a department's queue
DISPATCH_ROLES = (DISPATCHER, *SUPERVISORS)
