"""docs/modes.md is what tools/compare_modes.py generates now: every bundled scenario runs in
both world modes, and the side-by-side table of their steady states is current."""
import subprocess
import sys

from dosim_test_util import DOSIM, SOURCE_DIR


def test_the_modes_table_is_current():
    result = subprocess.run([sys.executable, str(SOURCE_DIR / "tools" / "compare_modes.py"),
                             str(DOSIM), "--check"], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
