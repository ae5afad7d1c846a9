"""Survey definitions, the engine beside checklists: the YAML format, its loader and the active survey."""
