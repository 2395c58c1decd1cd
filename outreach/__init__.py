"""Booka speaks first: reminders and change notices, on a job queue (outreach/README.md)."""
