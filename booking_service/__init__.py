"""Booka's booking service: tenants' catalogs, customers, bookings and availability over HTTP."""
