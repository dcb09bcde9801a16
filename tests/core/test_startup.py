"""A web process starts light: heavy libraries load when first used, not on import.

scikit-learn and SciPy (~90 MB and ~1 s a process) came in with the portal's service
finder's import of the triage classifier in issue 16 and nearly doubled every gunicorn
worker's memory (130 -> 228 MB in bench/open311.py) until the import was made lazy.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_loading_every_url_imports_neither_scikit_learn_nor_onnxruntime() -> None:
    code = (
        "import sys, django; django.setup(); import townhall.urls;"
        "print(sorted(m for m in ('sklearn', 'scipy', 'onnxruntime') if m in sys.modules))"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "townhall.settings", "PYTHONPATH": str(ROOT)}
    run = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.split("\n")[-2] == "[]", run.stdout
