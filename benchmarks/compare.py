"""The floor, flask-kaleo and pinax-invitations back to back, in one window, with ratios.

    python benchmarks/compare.py --postgresql postgresql+psycopg://postgres@127.0.0.1/kaleo_bench
    python benchmarks/compare.py --postgresql URL --duration 20 --rounds 2 --venv /work/pinax-venv

Runs benchmarks/floor.py, benchmarks/load.py and benchmarks/pinax_load.py one after the
other (``--rounds`` times), each with the same options: gunicorn with ``--workers`` sync
workers on 127.0.0.1, ``--members`` members inviting fresh addresses in a closed loop,
PostgreSQL. The host app's settings hold for kaleo (benchmarks/support.py: the
per-address daily limit on, mail suppressed, so each email is rendered but not sent);
the floor runs the same SQL with nothing else. Each script prints its own table; this
one then prints every run's invitations per second, kaleo's share of the floor's and
kaleo against pinax. pinax runs from its own virtualenv, ``--venv`` (made as
benchmarks/pinax_site.py says); ``--no-pinax`` leaves it out.

The database is a throwaway one: each script creates its schema there and drops it
afterwards. Run it while nothing else loads the machine: the three share one window
so that they meet the same conditions.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def per_second(output: str) -> float:
    """The invitations/s column of the one result row a load script printed."""
    rows = [line for line in output.splitlines() if line.startswith("| ") and "---" not in line]
    cells = [cell.strip() for cell in rows[-1].strip("|").split("|")]
    return float(cells[5])


def run(script: str, options: argparse.Namespace, *extra: str) -> float:
    command = [
        sys.executable,
        str(ROOT / "benchmarks" / script),
        "--postgresql",
        options.postgresql,
        "--workers",
        str(options.workers),
        "--members",
        str(options.members),
        "--duration",
        str(options.duration),
        "--warmup",
        str(options.warmup),
        *extra,
    ]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    sys.stdout.write(done.stdout)
    sys.stderr.write(done.stderr)
    if done.returncode:
        raise SystemExit(f"{script} failed ({done.returncode})")
    return per_second(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgresql", metavar="URL", required=True)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--members", type=int, default=8, help="client threads, one each")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds counted")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds not counted")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--venv", type=Path, default=Path("/work/pinax-venv"))
    parser.add_argument("--no-pinax", action="store_true")
    options = parser.parse_args()

    results: list[tuple[int, float, float, float | None]] = []
    for round_ in range(1, options.rounds + 1):
        floor = run("floor.py", options)
        kaleo = run("load.py", options)
        pinax = (
            None if options.no_pinax else run("pinax_load.py", options, "--venv", str(options.venv))
        )
        results.append((round_, floor, kaleo, pinax))

    print()
    print(
        "| round | floor /s | flask-kaleo /s | pinax /s"
        " | kaleo / floor | floor / kaleo | kaleo / pinax |"
    )
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for round_, floor, kaleo, pinax in results:
        versus_pinax = "" if not pinax else f"{kaleo / pinax:.1f}x"
        print(
            f"| {round_} | {floor:.0f} | {kaleo:.0f} | {'' if pinax is None else f'{pinax:.0f}'}"
            f" | {kaleo / floor:.2f} | {floor / kaleo:.2f}x | {versus_pinax} |"
        )


if __name__ == "__main__":
    main()
