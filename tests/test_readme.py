"""The README's examples are executed, so they stay true.

Blocks preceded by the comment ``<!-- readme-test ... -->`` run in a fresh
interpreter; a failing example fails the suite.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
BLOCKS = re.findall(r"<!-- readme-test[^>]*-->\s*```python\n(.*?)```", README.read_text(), re.S)


def test_readme_has_executed_examples() -> None:
    assert BLOCKS, "README.md lost its executed examples"


@pytest.mark.parametrize("code", BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_readme_example_runs(code: str, tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
