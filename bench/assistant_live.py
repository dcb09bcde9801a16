"""Benchmark: the assistant's live chat transport, turn latency over WebSocket.

A real ASGI server process on this machine (uvicorn, as `townhall demo` runs it; `--servers
uvicorn,daphne` compares) serves Townhall with the in-memory channel layer on a fresh
SQLite database. A client process (this one, asyncio and the `websockets` library) opens
1, 50 and 200 conversations at once; each sends a resident's message, waits for the
answer, pauses (`--think`, 5 s by default, randomised ±50 %: a person reading the answer
and typing the next message, which takes longer than that), and again: 200 conversations
offer about 40 messages a second. Each conversation starts after a random wait of up to
one pause (people arrive over time; all 200 in the same millisecond would measure a
thundering herd that a chat never sees).

- Turn latency: send to reply, p50 and p95, per number of conversations (goal: p95 under
  50 ms at 200 conversations).
- Messages/s: the same conversations without pauses (saturation throughput).
- Peak memory: the server process's peak RSS (VmHWM), read at the end.

The reference is measured in the same run on the same server: /ws/echo/, a consumer that
answers each frame with a reply of the same shape and does nothing else (same middleware
stack, no engine, no database). The chat's socket (/ws/assistant/) calls whatever
`townhall.assistant.services.message_receive` is installed: the bench says which.

    python bench/assistant_live.py            # the figures in docs/benchmarks.md
    python bench/assistant_live.py --smoke    # a few seconds: it still runs
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.smoke import add_smoke  # noqa: E402

UTTERANCES = [
    "When is my bin collected?",
    "There is a pothole on Elm Street",
    "Can I get a permit for a skip?",
    "What is happening with my request TH-26-000123?",
    "The streetlight outside my house is broken",
    "Do you collect garden waste at Christmas?",
    "I want to speak to a person",
    "How do I report fly-tipping?",
]
ORIGIN = "http://127.0.0.1"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--servers", default="uvicorn", help="uvicorn, daphne or both (comma)")
    parser.add_argument("--levels", default="1,50,200", help="concurrent conversations")
    parser.add_argument("--turns", type=int, default=12, help="messages per conversation")
    parser.add_argument(
        "--think", type=float, default=5.0, help="seconds between a reply and the next message"
    )
    parser.add_argument("--burst-seconds", type=float, default=10.0, help="throughput phase")
    add_smoke(parser)
    args = parser.parse_args(argv)
    if args.smoke:
        args.servers, args.levels, args.turns = "uvicorn", "1,10", 5
        args.think, args.burst_seconds = 0.05, 2.0
    return args


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_command(server: str, port: int) -> list[str]:
    app = "bench.assistant_live_asgi:application"
    if server == "uvicorn":
        return [
            sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port),
            "--log-level", "warning", "--no-access-log", "--lifespan", "off",
            "--ws-max-size", "65536",
        ]  # fmt: skip
    if server == "daphne":
        return [sys.executable, "-m", "daphne", "-v", "0", "-b", "127.0.0.1", "-p", str(port), app]
    raise SystemExit(f"unknown server {server!r}")


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def version_of(package: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return "?"


async def conversation(
    url: str, turns: int, think: float, latencies: list[float], deadline: float | None
) -> int:
    """One resident: send, wait for the reply, pause; return how many turns were answered."""
    import websockets

    done = 0
    key = None
    if think:  # people arrive over time, not all in the same millisecond
        await asyncio.sleep(random.uniform(0, think))
    async with websockets.connect(url, origin=ORIGIN, max_size=2**20) as ws:  # type: ignore[arg-type]
        n = 0
        while (deadline is None and n < turns) or (
            deadline is not None and time.perf_counter() < deadline
        ):
            text = UTTERANCES[(n + random.randrange(len(UTTERANCES))) % len(UTTERANCES)]
            frame = {
                "type": "message",
                "id": n,
                "conversation": key,
                "text": text,
                "language": "en",
            }
            start = time.perf_counter()
            await ws.send(json.dumps(frame))
            while True:
                answer = json.loads(await ws.recv())
                if answer.get("id") == n:
                    break
            latencies.append(time.perf_counter() - start)
            if answer.get("type") != "reply":
                raise RuntimeError(f"not a reply: {answer}")
            key = answer.get("conversation") or None
            done += 1
            n += 1
            if think:
                await asyncio.sleep(think * random.uniform(0.5, 1.5))
    return done


async def level(url: str, count: int, turns: int, think: float) -> list[float]:
    latencies: list[float] = []
    await asyncio.gather(*(conversation(url, turns, think, latencies, None) for _ in range(count)))
    return latencies


async def burst(url: str, count: int, seconds: float) -> float:
    latencies: list[float] = []
    start = time.perf_counter()
    deadline = start + seconds
    done = await asyncio.gather(
        *(conversation(url, 0, 0.0, latencies, deadline) for _ in range(count))
    )
    return sum(done) / (time.perf_counter() - start)


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


async def probe(url: str) -> str:
    """Which engine answers: the skeleton echoes the text back with no conversation."""
    import websockets

    async with websockets.connect(url, origin=ORIGIN) as ws:  # type: ignore[arg-type]
        text = "When is my bin collected?"
        await ws.send(json.dumps({"type": "message", "id": "probe", "text": text}))
        answer = json.loads(await ws.recv())
    messages = answer.get("messages") or [{}]
    if answer.get("conversation") == "" and messages[0].get("text") == text:
        return "skeleton message_receive (echoes; no database)"
    return f"dialogue engine (first answer: {str(messages[0].get('text', ''))[:60]!r})"


def wait_ready(port: int, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server stopped (exit {proc.returncode})")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("the server did not start")


def run_server(server: str, args: argparse.Namespace, env: dict[str, str]) -> dict[str, object]:
    port = free_port()
    proc = subprocess.Popen(server_command(server, port), cwd=ROOT, env=env)  # noqa: S603 - our own command
    results: dict[str, object] = {}
    try:
        wait_ready(port, proc)
        levels = [int(n) for n in args.levels.split(",")]
        base = f"ws://127.0.0.1:{port}/ws/"
        print(f"engine: {asyncio.run(probe(base + 'assistant/'))}")
        print(f"\n{server} {version_of(server)}, one process; {args.turns} turns per conversation,")
        print(f"pause {args.think:g} s ±50 % between turns; latency = send to reply, ms")
        print(
            f"  {'socket':<10} {'conversations':>13} {'turns':>7} {'p50':>8} {'p95':>8} {'p99':>8}"
            "  offered"
        )
        for count in levels:
            for name in ("echo", "assistant"):  # the reference first, then the chat
                started = time.perf_counter()
                samples = asyncio.run(level(base + name + "/", count, args.turns, args.think))
                offered = len(samples) / (time.perf_counter() - started)
                p50, p95, p99 = (pct(samples, q) for q in (0.5, 0.95, 0.99))
                results[f"{name}@{count}"] = (p50, p95)
                print(
                    f"  {name:<10} {count:>13} {len(samples):>7} {p50:8.2f} {p95:8.2f} {p99:8.2f}"
                    f"  {offered:5.1f} msg/s"
                )
        top = levels[-1]
        for name in ("echo", "assistant"):
            rate = asyncio.run(burst(base + name + "/", top, args.burst_seconds))
            results[f"rate {name}"] = rate
            print(f"  {name:<10} messages/s with {top} conversations and no pause: {rate:,.0f}")
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        print(f"  load average now (1, 5, 15 min; other work on this machine): {load}")
        results["rss"] = peak_rss_mb(proc.pid)
        print(f"  peak memory of the server process (RSS): {results['rss']:.0f} MB")
        p95 = results.get(f"assistant@{top}")
        if isinstance(p95, tuple):
            verdict = "met" if p95[1] < 50 else "NOT met"
            print(f"  goal p95 < 50 ms at {top} conversations: {verdict} ({p95[1]:.1f} ms)")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
    return results


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="townhall-live-") as workdir:
        env = {
            **{k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}},
            "DJANGO_SETTINGS_MODULE": "townhall.settings",
            "DATABASE_URL": f"sqlite:///{workdir}/bench.sqlite3",
            "TOWNHALL_VAR_DIR": workdir,
            "DEBUG": "false",
            "LOG_LEVEL": "WARNING",
            # each simulated resident types far faster than a person: no flood limit here
            "TOWNHALL_ASSISTANT_MESSAGES_PER_MINUTE": "1000000",
            # ... and all of them come from one address
            "TOWNHALL_RATE_LIMITS": "assistant_connect=off",
            "TOWNHALL_KNOWLEDGE_THREADS": "1",
        }
        Path(workdir, "static").mkdir()  # whitenoise looks for STATIC_ROOT
        print(
            f"Assistant live chat transport: {platform.processor() or platform.machine()}, "
            f"{os.cpu_count()} CPUs, Python {platform.python_version()}, "
            f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
        )
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "townhall", "migrate", "--verbosity", "0"],
            cwd=ROOT, env=env, check=True,
        )  # fmt: skip
        print(f"SQLite database migrated in {time.perf_counter() - started:.0f} s")
        print(f"channel layer: in memory; client: websockets {version_of('websockets')}")
        for server in args.servers.split(","):
            run_server(server.strip(), args, env)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
