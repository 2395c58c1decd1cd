"""Booka's Rasa assistant: domain and training data, plus the one custom policy it needs."""
