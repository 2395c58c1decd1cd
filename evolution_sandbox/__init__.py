"""A local imitation of Evolution API v2 (WhatsApp) with a web chat: for `make demo` and tests."""
