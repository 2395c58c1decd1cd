"""The owners' web app: server-rendered pages (Jinja2 with autoescaping; htmx for the live
previews). `kit` holds what every page shares; each other module is one family of pages
and exports `add_routes(app)`; `admin.app` composes them. Every form carries the session's
CSRF token; every change is written to the audit log."""
