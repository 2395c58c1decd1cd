"""Code shared by every Booka process: local secrets, structured logging, field encryption.

Kept deliberately small and dependency-light (stdlib, `cryptography`, `structlog`) because
both virtual environments (the Rasa one and the services one) import it.
"""
