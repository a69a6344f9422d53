"""Backups, races and faults, with figures (issue 14)."""
