"""The framework only the services' environment uses (booking service, tenant engine, admin,
sandbox): SQL engines and migrations, JSON API errors and middleware, OpenAPI documents, rate
limits, outbound URL checks, email, the tenant directory. What both environments share is in
`booka_common`."""
