"""The web desk: one application for agents, supervisors, QA staff and departments."""
