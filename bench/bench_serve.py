"""Throughput and latency of the CDS Hooks service's patient-view, on the loopback.

Starts `consilium serve --insecure-no-auth` (the bundled knowledge base) as its own process,
then drives POST /cds-services/consilium-patient-view from 1, 8 and 32 concurrent clients
for a fixed time each, every request carrying an example case's FHIR bundle as prefetch
under discovery's keys and the team's answers in its extension, as `consilium cds-request`
writes them (the 13 of examples/fhir/, in turn). Each client keeps one HTTP/1.1 connection and sends
its next request when the answer is in (closed loop), written on asyncio streams so that
the clients take little of the 2 cores the service shares with them. It reports requests
per second, p50 and p99 latency, the service's CPU time per request (what the machine's
other load cannot change), and every failed request (a status other than 200, or an
answer without cards). Baselines measured in the same run: GET /cds-services (the HTTP
stack alone, 1 client) and one patient-view done in-process (read the bundle, evaluate,
make the cards), so the ratios say what HTTP and concurrency add.

    python bench/bench_serve.py                 # 60 s per level (the target: p99 <= 50 ms at 8 clients)
    python bench/bench_serve.py --seconds 10    # a quicker look
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PATH = "/cds-services/consilium-patient-view"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def records() -> list[tuple[dict, dict]]:
    """The example bundles, each with the team's answers beside it (examples/fhir/team/)."""
    import yaml
    out = []
    for path in sorted((ROOT / "examples" / "fhir").glob("*.json")):
        team = yaml.safe_load((ROOT / "examples" / "fhir" / "team" / f"{path.stem}.yaml").read_text()) or {}
        out.append((json.loads(path.read_text(encoding="utf-8")), team))
    return out


def bodies(workload: str = "team") -> list[bytes]:
    """patient-view requests: `team` and `alone` as `consilium cds-request` writes them (the prefetch
    under discovery's keys; `team` with the team's answers in the request's extension); `whole`,
    the bundle whole under `patient`, without the team's answers (this benchmark's first form)."""
    sys.path.insert(0, str(ROOT))
    import consilium
    from consilium.engine.service.request import cds_request
    kb = consilium.load_kb()
    if workload == "whole":
        return [json.dumps({"hook": "patient-view", "hookInstance": f"bench-{number}",
                            "context": {"userId": "Practitioner/bench", "patientId": "patient"},
                            "prefetch": {"patient": bundle}}).encode()
                for number, (bundle, _) in enumerate(records())]
    return [json.dumps(cds_request(kb, bundle, "patient-view", answers if workload == "team" else None),
                       default=str).encode() for bundle, answers in records()]


def request_bytes(port: int, method: str, path: str, body: bytes = b"") -> bytes:
    head = (f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n")
    return head.encode() + body


async def exchange(reader, writer, payload: bytes) -> tuple[int, bytes]:
    writer.write(payload)
    await writer.drain()
    status_line = await reader.readline()
    status = int(status_line.split()[1])
    length = 0
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b""):
            break
        name, _, value = line.decode().partition(":")
        if name.lower() == "content-length":
            length = int(value)
    return status, await reader.readexactly(length)


async def client(port: int, payloads: list[bytes], offset: int, until: float, latencies: list[float],
                 failures: list[str], check_cards: bool) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    n = offset
    try:
        while time.perf_counter() < until:
            payload = payloads[n % len(payloads)]
            n += 1
            started = time.perf_counter()
            try:
                status, body = await exchange(reader, writer, payload)
            except (OSError, asyncio.IncompleteReadError, ValueError, IndexError) as exc:
                failures.append(f"{type(exc).__name__}: {exc}")
                writer.close()
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                continue
            latencies.append(time.perf_counter() - started)
            if status != 200 or (check_cards and b'"cards"' not in body):
                failures.append(f"HTTP {status}: {body[:200]!r}")
    finally:
        writer.close()


async def level(port: int, payloads: list[bytes], clients: int, seconds: float, check_cards: bool = True) -> dict:
    latencies: list[float] = []
    failures: list[str] = []
    started = time.perf_counter()
    until = started + seconds
    await asyncio.gather(*(client(port, payloads, i, until, latencies, failures, check_cards)
                           for i in range(clients)))
    elapsed = time.perf_counter() - started
    latencies.sort()
    pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000 if latencies else float("nan")  # noqa: E731
    return {"clients": clients, "requests": len(latencies), "rps": len(latencies) / elapsed, "p50": pick(0.50),
            "p99": pick(0.99), "max": latencies[-1] * 1000 if latencies else float("nan"), "failures": failures}


def cpu_seconds(pid: int) -> float:
    """The CPU time a process has used so far (user and system), from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return float("nan")


def in_process_ms(repeat: int = 300) -> float:
    sys.path.insert(0, str(ROOT))
    import consilium
    from consilium.engine.inputs.fhir import read_bundle, with_facts
    from consilium.engine.service.cards import patient_view_cards
    kb = consilium.load_kb()
    cases = json.loads(json.dumps(records(), default=str))   # the team's answers as the request carries them
    times = []
    for i in range(repeat):
        bundle, team = cases[i % len(cases)]
        started = time.perf_counter()
        result = kb.evaluate_bundle(with_facts(read_bundle(bundle, kb.facts), team, kb.facts))
        json.dumps({"cards": patient_view_cards(kb, result, [])})
        times.append(time.perf_counter() - started)
    return statistics.median(times[repeat // 10:]) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="how long each level runs (default 60)")
    parser.add_argument("--clients", default="1,8,32", help="the levels of concurrency (default 1,8,32)")
    parser.add_argument("--workloads", default="team", help="team (each record with the team's answers, as a "
                        "clinician's request carries them), alone (the record only), whole (the bundle whole "
                        "under patient), or several: whole,alone,team")
    args = parser.parse_args()
    port = free_port()
    env = dict(os.environ, CONSILIUM_CACHE=os.environ.get("CONSILIUM_CACHE", ""))
    server = subprocess.Popen([sys.executable, "-m", "consilium", "serve", "--insecure-no-auth", "--port", str(port)],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.time() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.time() > deadline or server.poll() is not None:
                    print(server.stderr.read().decode() if server.poll() is not None else "no answer", file=sys.stderr)
                    return 1
                time.sleep(0.2)
        workloads = {name: [request_bytes(port, "POST", PATH, b) for b in bodies(name)]
                     for name in args.workloads.split(",")}
        payloads = next(iter(workloads.values()))
        asyncio.run(level(port, payloads, 4, 3.0))  # warm up
        baseline = asyncio.run(level(port, [request_bytes(port, "GET", "/cds-services")], 1, min(10.0, args.seconds),
                                     check_cards=False))
        rows = []
        for clients in args.clients.split(","):
            for name, payloads in workloads.items():   # interleaved: each level runs every workload in turn
                before = cpu_seconds(server.pid)
                rows.append(asyncio.run(level(port, payloads, int(clients), args.seconds)))
                rows[-1]["cpu"] = (cpu_seconds(server.pid) - before) / max(rows[-1]["requests"], 1) * 1000
                rows[-1]["workload"] = name
    finally:
        server.terminate()
        server.wait(timeout=10)
    own = in_process_ms()
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}; {args.seconds:g} s per level; "
          f"{len(payloads)} example bundles in turn; load average {os.getloadavg()[0]:.2f} after the run")
    print(f"baselines: one patient-view in-process {own:.2f} ms (median); GET /cds-services over HTTP "
          f"p50 {baseline['p50']:.2f} ms, {baseline['rps']:.0f} req/s (1 client)\n")
    print("| workload | clients | requests | req/s | p50 (ms) | p99 (ms) | max (ms) | service CPU per request (ms) "
          "| p50 / in-process | failed |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['workload']} | {r['clients']} | {r['requests']:,} | {r['rps']:.0f} | {r['p50']:.1f} "
              f"| {r['p99']:.1f} "
              f"| {r['max']:.1f} "
              f"| {r['cpu']:.2f} | {r['p50'] / own:.1f}x | {len(r['failures'])} |")
    failures = [f for r in rows for f in r["failures"]]
    for failure in failures[:5]:
        print("failure:", failure)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
