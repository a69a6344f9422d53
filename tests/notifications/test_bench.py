"""`manage.py bench_reminder_scan` (part of `make bench`) runs on a small count and reports its figures."""

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_scan_bench_builds_scans_and_scans_again_in_a_throwaway_database(tmp_path):
    env = {**os.environ, "THIDUA_VAR_DIR": str(tmp_path / "var")}
    result = subprocess.run(
        [sys.executable, "manage.py", "bench_reminder_scan", "--tasks", "2000"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    assert re.search(r"^built 2,000 open tasks", out, re.MULTILINE), out
    assert re.search(r"^baseline: read [\d,]+ open tasks", out, re.MULTILINE), out
    written = int(re.search(r"^scan: ([\d,]+) outbox rows", out, re.MULTILINE).group(1).replace(",", ""))
    assert written > 100  # reminders, due today and escalations of 2,000 tasks spread over 70 days
    assert re.search(r"^scan again: 0 new rows", out, re.MULTILINE), out
