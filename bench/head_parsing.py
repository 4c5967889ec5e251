"""What capping request heads costs: the served protocol against uvicorn's httptools and h11.

Run: .venv/bin/python -m bench.head_parsing [--seconds 10] [--rounds 3] [--connections 32]
Needs `wrk`. Starts three servers on one migrated SQLite file, each one uvicorn process logging
the same way: `policy-match serve` (httptools with the head counted, service.api.server), uvicorn's
own httptools protocol, and uvicorn's h11 protocol (which caps heads at 16 KiB itself). In each
round wrk runs GET /healthz against each in turn, with the headers a gateway typically adds
(about 1 KiB: a bearer-sized Authorization, X-Forwarded-For, X-Request-ID, a user agent, cookies).
Prints every run and the median req/s of each, with the ratios against plain httptools.
"""

import subprocess
import tempfile
from pathlib import Path

from bench.common import free_port, load_arguments, report, side_by_side, start_server, stop_server
from service.core.migrate import upgrade_database

GATEWAY_HEADERS = {
    "Authorization": "Bearer " + "x" * 600,
    "X-Forwarded-For": "10.20.30.40",
    "X-Request-ID": "gw-0123456789abcdef",
    "User-Agent": "platform-gateway/2.4 (+https://example.invalid)",
    "Cookie": "session=" + "c" * 200,
    "Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5",
}


def main() -> None:
    """Measure and print."""
    args = load_arguments(connections=32)
    with tempfile.TemporaryDirectory() as folder:
        script = Path(folder) / "headers.lua"
        script.write_text(
            "".join(f'wrk.headers["{k}"] = "{v}"\n' for k, v in GATEWAY_HEADERS.items()),
            encoding="utf-8",
        )
        url = f"sqlite:///{Path(folder) / 'bench.db'}"
        upgrade_database(url)
        servers: list[subprocess.Popen[bytes]] = []
        loads: dict[str, tuple[str, Path | None]] = {}
        for name, http in (("served (capped)", None), ("httptools", "httptools"), ("h11", "h11")):
            port = free_port()
            servers.append(
                start_server(
                    port, uvicorn_http=http, database_url=url, push_worker_in_process="false"
                )
            )
            loads[name] = (f"http://127.0.0.1:{port}/healthz", script)
        try:
            results = side_by_side(args, loads)
        finally:
            for server in servers:
                stop_server(server)
    best = report(results)
    base = best["httptools"]
    for name, rps in best.items():
        print(f"{name:18s} median {rps:9.0f} req/s  ({rps / base:.2f} of httptools)")


if __name__ == "__main__":
    main()
