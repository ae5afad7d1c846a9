"""Administration: users, regions, locations and the audit log."""
