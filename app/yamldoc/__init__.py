"""YAML documents (checklists, surveys): safe reading, validation, messages in the author's words, folders."""
