"""Operational commands run beside the app: backups and restores."""
