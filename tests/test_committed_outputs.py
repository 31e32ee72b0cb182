"""The results a reader sees in the committed notebooks (and the README) are what the code computes now.

The default study's units are cached, so after `make test` has run the tutorial this recomputes nothing;
on a cold cache it runs the default study once (a few minutes)."""
import ast
import html
import json
import re
from pathlib import Path

import pytest

from featvae.experiment import run_study, study_table

NBS = Path(__file__).resolve().parents[1] / "nbs"
README = Path(__file__).resolve().parents[1] / "README.md"


@pytest.fixture(scope="module")
def default_study():
    return run_study()


def cell_with(nb, text):
    cells = [c for c in json.loads((NBS / nb).read_text(encoding="utf-8"))["cells"]
             if c["cell_type"] == "code" and text in "".join(c["source"])]
    assert len(cells) == 1, f"{nb}: expected one cell containing {text!r}, found {len(cells)}"
    return cells[0]


def output(cell, mime):
    outs = ["".join(o["data"][mime]) for o in cell.get("outputs", []) if mime in o.get("data", {})]
    assert outs, f"the cell has no {mime} output: run `make outputs`"
    return outs[0]


def test_index_table_is_what_the_code_computes(default_study):
    cell = cell_with("index.ipynb", "study_markdown(")
    src = "\n".join(l for l in "".join(cell["source"]).splitlines() if not l.startswith("#|"))
    call = ast.parse(src).body[-1].value.args[0]                    # study_markdown(run_study(), ...)
    kwargs = {kw.arg: ast.literal_eval(kw.value) for kw in call.keywords}
    from featvae.experiment import study_markdown
    assert output(cell, "text/markdown").strip() == study_markdown(default_study, **kwargs).strip()


def test_readme_shows_the_index_table(default_study):
    cell = cell_with("index.ipynb", "study_markdown(")
    assert output(cell, "text/markdown").strip() in README.read_text(encoding="utf-8")


def test_tutorial_table_is_what_the_code_computes(default_study):
    cell = cell_with("11_tutorial.ipynb", "table = study_table(df)")
    page = output(cell, "text/html")
    body = page[page.index("<tbody>"):]
    cells = [html.unescape(c).strip() for c in re.findall(r"<td>([^<]*)</td>", body)]
    rows = [html.unescape(r).strip() for r in re.findall(r"<th>([^<]*)</th>\s*<td>", body)]
    t = study_table(default_study)
    assert rows == list(t.index)
    assert cells == [str(v) for v in t.to_numpy().ravel()]
