"""Customer surveys (NPS, CSAT, CES) beside the audits."""
