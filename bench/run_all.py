"""Run every benchmark in bench/ and print one table; ``make bench`` runs this.

A benchmark is any ``bench/*.py`` with a ``main()`` function. ``main()`` prints what it likes and returns its
rows for the table: a list of dicts (or one dict) with the keys ``benchmark``, ``figure`` and optionally
``detail``; returning None gives a row that points at the script's output. Each script runs in its own
process (a crash or a leaked connection in one cannot spoil another), with ``BENCH_DATABASE_URL`` set to
the local PostgreSQL (postgres@127.0.0.1:5432) unless it or ``TEST_DATABASE_URL`` is set already. The
table goes to stdout and to bench/results.md with the machine's core count and load, since figures on a
shared machine are noisy.

``python bench/run_all.py [NAME ...]`` runs only the named scripts (e.g. ``flash_sale``); results.md then
says it is a partial run.
Exit status: 1 when any benchmark failed (its row says so), else 0.
"""

from __future__ import annotations

import ast
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
SKIP = {"run_all.py", "gunicorn.conf.py", "__init__.py"}
RESULT_ENV = "ZHIJIA_BENCH_RESULT_FILE"
# The PostgreSQL admin URL every benchmark gets when neither BENCH_DATABASE_URL nor TEST_DATABASE_URL is set.
DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def _has_main(path: Path) -> bool:
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except SyntaxError:
        return True  # let it run and fail loudly rather than vanish from the table
    return any(isinstance(node, ast.FunctionDef) and node.name == "main" for node in tree.body)


def discover(names: list[str]) -> list[Path]:
    scripts = sorted(p for p in BENCH.glob("*.py") if p.name not in SKIP and not p.name.startswith("_"))
    scripts = [p for p in scripts if _has_main(p)]
    if names:
        wanted = {n.removesuffix(".py") for n in names}
        scripts = [p for p in scripts if p.stem in wanted]
    # The flash sale first: it is the figure the others are compared with.
    return sorted(scripts, key=lambda p: (p.stem != "flash_sale", p.stem))


def _normalise(script: str, returned: Any) -> list[dict[str, str]]:
    if returned is None:
        return [{"benchmark": script, "figure": "see the script's output", "detail": ""}]
    items = returned if isinstance(returned, list) else [returned]
    rows = []
    for item in items:
        if isinstance(item, dict):
            rows.append(
                {
                    "benchmark": str(item.get("benchmark") or script),
                    "figure": str(item.get("figure", "")),
                    "detail": str(item.get("detail", "")),
                }
            )
        else:
            rows.append({"benchmark": script, "figure": str(item), "detail": ""})
    return rows


def run_one(path: Path) -> tuple[list[dict[str, str]], bool, float]:
    """Run ``path``'s main() in a child process; its output streams through; returns (rows, ok, seconds)."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        result_file = handle.name
    env = {**os.environ, RESULT_ENV: result_file, "PYTHONPATH": os.pathsep.join([str(ROOT), str(BENCH)])}
    if not env.get("BENCH_DATABASE_URL") and not env.get("TEST_DATABASE_URL"):
        env["BENCH_DATABASE_URL"] = DEFAULT_DATABASE_URL
    child = (
        "import importlib.util, json, os, sys\n"
        f"spec = importlib.util.spec_from_file_location('bench_script', {str(path)!r})\n"
        "module = importlib.util.module_from_spec(spec)\n"
        "sys.modules['bench_script'] = module\n"
        "spec.loader.exec_module(module)\n"
        "result = module.main()\n"
        f"open(os.environ[{RESULT_ENV!r}], 'w', encoding='utf-8').write(json.dumps(result, default=str))\n"
    )
    started = time.perf_counter()
    try:
        completed = subprocess.run([sys.executable, "-c", child], cwd=ROOT, env=env, check=False)
        elapsed = time.perf_counter() - started
        if completed.returncode != 0:
            return (
                [{"benchmark": path.stem, "figure": f"FAILED (exit {completed.returncode})", "detail": "see output"}],
                False,
                elapsed,
            )
        text = Path(result_file).read_text(encoding="utf-8")
        return _normalise(path.stem, json.loads(text) if text else None), True, elapsed
    finally:
        Path(result_file).unlink(missing_ok=True)


def _machine() -> dict[str, str]:
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    return {
        "cores": str(os.cpu_count()),
        "load": f"{load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}",
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
    }


def _escape(cell: str) -> str:
    return cell.replace("|", "\\|").replace("\n", " ")


def render(rows: list[dict[str, str]], machine: dict[str, str], started: datetime, load_after: str) -> str:
    lines = [
        "# Benchmark results",
        "",
        f"Generated by `make bench` (bench/run_all.py) on {started:%Y-%m-%d %H:%M} UTC.",
        "",
        f"- machine: **{machine['cores']} cores** (os.cpu_count()), {machine['platform']}, Python {machine['python']}",
        f"- load average (1/5/15 min) at the start: {machine['load']}; at the end: {load_after}",
        "- figures from a shared or busy machine are noisy: compare runs made on an idle machine",
        "",
        "| benchmark | figure | detail |",
        "|---|---|---|",
    ]
    lines += [f"| {_escape(r['benchmark'])} | {_escape(r['figure'])} | {_escape(r['detail'])} |" for r in rows]
    return "\n".join(lines) + "\n"


def _print_table(rows: list[dict[str, str]]) -> None:
    width = max([len(r["benchmark"]) for r in rows] + [9])
    print()
    print(f"{'benchmark':<{width}}  figure")
    print(f"{'-' * width}  {'-' * 40}")
    for r in rows:
        print(f"{r['benchmark']:<{width}}  {r['figure']}")
        if r["detail"]:
            print(f"{'':<{width}}    {r['detail']}")


def main(argv: list[str] | None = None) -> int:
    names = list(sys.argv[1:] if argv is None else argv)
    scripts = discover(names)
    if not scripts:
        print("no benchmark found", file=sys.stderr)
        return 1
    started = datetime.now(UTC)
    machine = _machine()
    print(f"{len(scripts)} benchmark(s) on {machine['cores']} cores, load {machine['load']}")
    rows: list[dict[str, str]] = []
    ok = True
    for path in scripts:
        print(f"\n=== {path.name} ===", flush=True)
        script_rows, script_ok, elapsed = run_one(path)
        print(f"=== {path.name}: {'ok' if script_ok else 'FAILED'} in {elapsed:.0f} s ===", flush=True)
        rows += script_rows
        ok = ok and script_ok
    load_after = _machine()["load"]
    _print_table(rows)
    report = render(rows, machine, started, load_after)
    if names:
        report += f"\nPartial run: only {', '.join(names)}.\n"
    results = BENCH / "results.md"
    if results.exists():  # the rehearsal's section (make rehearsal, deploy/rehearsal.py) is kept
        previous = results.read_text(encoding="utf-8")
        if "\n## Rehearsal" in previous:
            report = report.rstrip("\n") + "\n\n## Rehearsal" + previous.split("\n## Rehearsal", 1)[1]
    results.write_text(report, encoding="utf-8")
    print(f"\nwritten to {BENCH / 'results.md'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
