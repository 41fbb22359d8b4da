"""Time and memory of `consilium eval --cohort` on the bundled knowledge base.

    python bench/bench_cohort.py [--sizes 10000 1000000] [--jobs 2]

Generates JSON Lines cohorts of random cases (fixed seed, a third of the facts missing, a
bad row every 10,000) under bench/out/, runs the command on each as a separate process, and
prints wall time, cases per second, and the peak memory of the process and its workers
together (sampled from /proc every 20 ms): the same peak for every size means bounded memory.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import consilium  # noqa: E402
from casegen import as_written, random_case  # noqa: E402


def cohort(size: int) -> Path:
    path = ROOT / "bench" / "out" / f"cohort-{size}.jsonl"
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    kb = consilium.load_kb(ROOT / "kb")
    rng = random.Random(11)
    pool = [json.dumps({k: as_written(v) for k, v in random_case(kb.facts, rng).items()}) for _ in range(5000)]
    with path.open("w") as handle:
        for i in range(size):
            handle.write("{broken\n" if i % 10_000 == 9_999 else pool[rng.randrange(len(pool))] + "\n")
    return path


def _rss_tree(pid: int) -> int:
    """Resident memory of a process and all its descendants, in KiB."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
        except (OSError, IndexError, ValueError):
            continue
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
        todo.extend(children.get(p, []))
    return total


def run(path: Path, jobs: int) -> tuple[float, int]:
    out = path.with_suffix(".out.jsonl")
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "consilium", "eval", "--cohort", str(path), "-o", str(out),
                                "--jobs", str(jobs)], cwd=ROOT, stderr=subprocess.DEVNULL)
    peak = 0

    def sample():
        nonlocal peak
        while process.poll() is None:
            peak = max(peak, _rss_tree(process.pid))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample)
    sampler.start()
    process.wait()
    sampler.join()
    return time.perf_counter() - started, peak


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 1_000_000])
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    print(f"{'cases':>10} {'seconds':>8} {'cases/s':>10} {'peak memory':>12}")
    for size in args.sizes:
        seconds, peak = run(cohort(size), args.jobs)
        print(f"{size:>10,} {seconds:>8.1f} {size / seconds:>10,.0f} {peak / 1024:>9.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
