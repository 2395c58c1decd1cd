"""Booka's Rasa action server (rasa-sdk)."""
