"""A loopback SMTP sink that answers each message after 20 ms, as a provider would.

Run as its own process (`python -m bench.scale_smtp PORT`) so its event loop never competes
with a sender's GIL. It prints `ready` once listening; each `count` line on stdin prints (and
zeroes) how many messages it accepted since the last one.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

from aiosmtpd.controller import Controller

DELAY_S = 0.020


class _Sink:
    def __init__(self) -> None:
        self.count = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        await asyncio.sleep(DELAY_S)
        self.count += 1
        return "250 OK"


def main(port: int) -> None:
    sink = _Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=port, data_size_limit=10_000_000)
    controller.start()
    print("ready", flush=True)
    try:
        for line in sys.stdin:
            if line.strip() == "count":
                n, sink.count = sink.count, 0
                print(n, flush=True)
    finally:
        controller.stop()


if __name__ == "__main__":
    main(int(sys.argv[1]))
