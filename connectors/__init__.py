"""Booka's Rasa input channels (Evolution API / WhatsApp)."""
