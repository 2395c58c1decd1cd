"""Booka's admin app and tenant configuration engine."""
