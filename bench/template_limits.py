"""Hostile owner templates (`make bench`): time and peak memory of each refused render.

The templates are the ones tests/admin/test_template_limits.py proves are refused; here
each is rendered 20 times and the worst time and the peak traced memory are printed.
"""

from __future__ import annotations

import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from booka_common.templating import TemplateProblem, ToneSettings, render_source  # noqa: E402
from tests.admin.test_template_limits import HOSTILE  # noqa: E402


def main() -> None:
    print(f"{'hostile template':28} {'worst ms':>9} {'peak MiB':>9}  refused because")
    for name, (source, _) in HOSTILE.items():
        worst, peak, reason = 0.0, 0, ""
        for _ in range(20):
            tracemalloc.start()
            started = time.perf_counter()
            try:
                render_source(source, {}, ToneSettings())
                reason = "NOT REFUSED"
            except TemplateProblem as problem:
                reason = problem.message
            worst = max(worst, time.perf_counter() - started)
            peak = max(peak, tracemalloc.get_traced_memory()[1])
            tracemalloc.stop()
        print(f"{name:28} {worst * 1000:9.1f} {peak / 2**20:9.2f}  {reason}")


if __name__ == "__main__":
    main()
