"""The framework only the services' environment uses (booking service, admin, sandbox):
SQL engines and migrations, JSON API errors and middleware, OpenAPI documents, rate limits,
outbound URL checks. What both environments share is in `booka_common`."""
