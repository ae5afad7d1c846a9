"""Backups: the database and the stored photos in one archive, and restoring one into a fresh install."""
