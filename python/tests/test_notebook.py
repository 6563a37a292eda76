"""The DBA review notebook runs headless without a cell error."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from conftest import REPO

NOTEBOOK = REPO / "docs" / "notebooks" / "dba-review.ipynb"


def _run(tmp_path: Path, env: dict) -> nbformat.NotebookNode:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    old = dict(os.environ)
    os.environ.update(env)
    # the inline backend (headless) so figures become PNG outputs
    os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    try:
        client = NotebookClient(
            nb, timeout=300, kernel_name="python3",
            resources={"metadata": {"path": str(NOTEBOOK.parent)}},
        )
        client.execute()  # raises CellExecutionError on any cell error
    finally:
        os.environ.clear()
        os.environ.update(old)
    nbformat.write(nb, tmp_path / "executed.ipynb")
    return nb


def _outputs(nb, kind):
    return [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
            if kind in o.get("data", {})]


def test_notebook_reviews_the_demo_snapshot(tmp_path: Path):
    env = {"PGSAGE_DSN": "", "PGSAGE_SNAPSHOT": ""}
    nb = _run(tmp_path, {k: v for k, v in env.items()})
    # the report rendered as the audit page's sections and the four plot cells drew figures
    html = [o["data"]["text/html"] for o in _outputs(nb, "text/html")]
    assert any('id="actions"' in h and 'id="finding-0"' in h for h in html)
    assert len(_outputs(nb, "image/png")) >= 5
    # the index advice and the plan rendered as their pages' sections too
    assert any('id="recommendations"' in h for h in html)
    assert sum(h.startswith('<div class="pgsage">') for h in html) >= 3


def test_notebook_reviews_a_live_server(tmp_path: Path, pg_server):
    nb = _run(tmp_path, {"PGSAGE_DSN": pg_server["monitor_dsn"]})
    assert len(_outputs(nb, "image/png")) >= 4
