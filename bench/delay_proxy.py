#!/usr/bin/env python3
"""A delaying TCP proxy for loopback: emulates network latency where kernel
netem is unavailable.

    delay_proxy.py LISTEN_PORT TARGET_PORT [DELAY_MS]

Every byte read from one side is written to the other side DELAY_MS later
(default 5 ms each direction, i.e. 10 ms RTT), in order. Bandwidth is not
limited and the TCP handshake with the proxy itself is not delayed (the
client's connect() returns at once; the first SSH bytes then pay the delay).

It also counts "turns" per connection: how many times the direction of the
data flow changes (client->server after server->client). For a strictly
sequential protocol, turns/2 is the number of round trips; reported on SIGTERM
/ SIGINT / SIGUSR1 to stderr as JSON (connections, bytes, turns).
"""
import asyncio
import json
import os
import signal
import sys
import time

STATS = {"connections": 0, "bytes_c2s": 0, "bytes_s2c": 0, "turns": 0}
# DELAY_PROXY_TRACE=FILE: one line per chunk read: "time conn direction bytes".
TRACE = open(os.environ["DELAY_PROXY_TRACE"], "w") if os.environ.get("DELAY_PROXY_TRACE") else None


async def pump(reader, writer, delay, key, conn):
    q: asyncio.Queue = asyncio.Queue()

    async def sender():
        loop = asyncio.get_running_loop()
        while True:
            due, data = await q.get()
            if data is None:
                break
            wait = due - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            writer.write(data)
            await writer.drain()
        try:
            if writer.can_write_eof():
                writer.write_eof()
        except OSError:
            pass

    task = asyncio.create_task(sender())
    loop = asyncio.get_running_loop()
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            STATS[key] += len(data)
            if TRACE:
                TRACE.write(f"{time.monotonic():.6f} {conn['id']} {'>' if key == 'bytes_c2s' else '<'} {len(data)}\n")
            if conn["last"] != key:
                conn["last"] = key
                STATS["turns"] += 1
            q.put_nowait((loop.time() + delay, data))
    except (ConnectionError, OSError):
        pass
    q.put_nowait((0, None))
    try:
        await task
    except (ConnectionError, OSError):
        pass


async def handle(creader, cwriter, target_port, delay):
    STATS["connections"] += 1
    try:
        sreader, swriter = await asyncio.open_connection("127.0.0.1", target_port)
    except OSError:
        cwriter.close()
        return
    conn = {"last": None, "id": STATS["connections"]}
    await asyncio.gather(
        pump(creader, swriter, delay, "bytes_c2s", conn),
        pump(sreader, cwriter, delay, "bytes_s2c", conn),
    )
    for w in (cwriter, swriter):
        try:
            w.close()
        except OSError:
            pass


def dump(*_):
    if TRACE:
        TRACE.flush()
    sys.stderr.write(json.dumps(STATS) + "\n")
    sys.stderr.flush()


async def main():
    listen, target = int(sys.argv[1]), int(sys.argv[2])
    delay = (float(sys.argv[3]) if len(sys.argv) > 3 else 5.0) / 1000.0
    server = await asyncio.start_server(
        lambda r, w: handle(r, w, target, delay), "127.0.0.1", listen, backlog=4096
    )
    loop = asyncio.get_running_loop()
    stop = loop.create_future()
    for s in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(s, lambda: stop.done() or stop.set_result(None))
    loop.add_signal_handler(signal.SIGUSR1, dump)
    print(f"delay_proxy: 127.0.0.1:{listen} -> 127.0.0.1:{target}, {delay*1000:.1f} ms each way",
          file=sys.stderr, flush=True)
    async with server:
        await stop
    dump()


if __name__ == "__main__":
    asyncio.run(main())
