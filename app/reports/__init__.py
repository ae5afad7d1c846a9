"""PDF audit reports: visit, location and summary reports, CLI and batch ZIP export."""
