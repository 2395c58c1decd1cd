"""`python -m duckling_server [--host H] [--port P]`; the defaults are 127.0.0.1 and
DUCKLING_PORT or 8000."""

from __future__ import annotations

import argparse
import os

from aiohttp import web

from booka_common.logs import configure_logging
from duckling_server.server import create_app


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m duckling_server", description="Local Duckling server"
    )
    parser.add_argument("--host", default=os.environ.get("DUCKLING_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("DUCKLING_PORT", "8000")))
    args = parser.parse_args()
    configure_logging("duckling")
    web.run_app(create_app(), host=args.host, port=args.port, access_log=None, print=None)


if __name__ == "__main__":
    main()
