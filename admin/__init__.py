"""Booka's web app for business owners and the platform (the tenant engine is `tenant_engine`)."""
