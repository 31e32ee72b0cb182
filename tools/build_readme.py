"""Write README.md from nbs/index.ipynb (what `nbdev_readme` does, without needing Quarto).

Markdown cells are copied as they are; code cells become ```python blocks; cells marked `#| hide` are
left out, and so are directive lines (`#| ...`). A cell marked `#| echo: false` contributes its Markdown
output instead of its code: that is how the README shows the study table computed by `make outputs`.

    python tools/build_readme.py          # write README.md
    python tools/build_readme.py --check  # exit 1 if README.md is out of date
"""
import json
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def render(nb_path=ROOT / "nbs" / "index.ipynb") -> str:
    nb = json.loads(Path(nb_path).read_text(encoding="utf-8"))
    parts = []
    for cell in nb["cells"]:
        src = "".join(cell["source"])
        lines = src.splitlines()
        directives = [l for l in lines if l.startswith("#|")]
        if any(d.replace(" ", "") in ("#|hide", "#|export", "#|exporti") for d in directives): continue
        body = "\n".join(l for l in lines if not l.startswith("#|")).strip("\n")
        if not body.strip(): continue
        if cell["cell_type"] == "markdown": parts.append(body)
        elif any(d.replace(" ", "") == "#|echo:false" for d in directives):   # only its (markdown) output
            parts += ["".join(o["data"]["text/markdown"]).strip("\n") for o in cell.get("outputs", [])
                      if "text/markdown" in o.get("data", {})]
        elif cell["cell_type"] == "code": parts.append(f"```python\n{body}\n```")
    return "\n\n".join(parts) + "\n"


def main(argv=sys.argv[1:]):
    text = render()
    target = ROOT / "README.md"
    if "--check" in argv:
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            print("README.md is out of date: run `python tools/build_readme.py`", file=sys.stderr)
            return 1
        return 0
    fd, tmp = tempfile.mkstemp(dir=ROOT, prefix=".README.md.")
    with os.fdopen(fd, "w", encoding="utf-8") as f: f.write(text)
    os.replace(tmp, target)
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
