"""Write README.md from nbs/index.ipynb (what `nbdev_readme` does, without needing Quarto).

Markdown cells are copied as they are; code cells become ```python blocks; cells marked `#| hide` are
left out, and so are directive lines (`#| ...`). A cell marked `#| echo: false` contributes its Markdown
output instead of its code: that is how the README shows the study table computed by `make outputs`.

Links are written for the index's place, `nbs/` (where they work on GitHub and, `.ipynb` → `.html`, on the
docs site). The README is read elsewhere, at the repository root on GitHub and as the package's long
description on PyPI, so each relative link becomes absolute: a notebook's link goes to its page on the docs
site (`02_backbones.ipynb` → `{doc_host}{doc_baseurl}/02_backbones.html`), any other file's to the file on
GitHub (`{git_url}/blob/{branch}/...`). A link to a path that does not exist stops the build.

    python tools/build_readme.py          # write README.md
    python tools/build_readme.py --check  # exit 1 if README.md is out of date
"""
import configparser
import json
import os
import re
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NBS = ROOT / "nbs"


def settings() -> dict:
    cfg = configparser.ConfigParser(delimiters=["="]); cfg.read(ROOT / "settings.ini", encoding="utf-8")
    return dict(cfg["DEFAULT"])


def doc_url(s=None) -> str:
    "The docs site's address, with a trailing `/`: `https://featvae.github.io/featvae/`."
    s = s or settings()
    return s["doc_host"].rstrip("/") + "/" + s.get("doc_baseurl", "").strip("/") + "/"


def absolute(url: str, s=None) -> str:
    "A link written in nbs/index.ipynb, made absolute for the README (see the module's docstring)."
    if re.match(r"^([a-z][a-z0-9+.-]*:|#|/)", url, re.I): return url   # http(s)/mailto/..., an anchor, root-absolute
    s = s or settings()
    path, _, frag = url.partition("#")
    target = (NBS / path).resolve()
    if not target.exists():
        raise SystemExit(f"nbs/index.ipynb links to {url!r}, but nbs/{path} does not exist")
    rel = target.relative_to(ROOT)
    if target.suffix == ".ipynb" and target.is_relative_to(NBS):
        return doc_url(s) + target.relative_to(NBS).with_suffix(".html").as_posix() + (f"#{frag}" if frag else "")
    kind = "tree" if target.is_dir() else "blob"
    return f"{s['git_url'].rstrip('/')}/{kind}/{s.get('branch', 'main')}/{rel.as_posix()}" + (f"#{frag}" if frag else "")


# [text](url "title"), ![alt](url), [id]: url, <a href="url">, <img src="url"> — outside code spans and blocks
INLINE_LINK = re.compile(r"(\]\(\s*<?)([^)\s>]+)")
REF_LINK = re.compile(r"^(\s{0,3}\[[^\]]+\]:\s*<?)(\S+?)(>?(\s|$))", re.M)
HTML_LINK = re.compile(r"""(<(?:a|img)\b[^>]*?\s(?:href|src)=["'])([^"']+)""", re.I)
CODE = re.compile(r"(```.*?```|`[^`\n]*`)", re.S)


def absolute_links(md: str, s=None) -> str:
    "Every relative link of a Markdown text made absolute (`absolute`); code is left as it is."
    fix = lambda m: m.group(1) + absolute(m.group(2), s)
    parts = CODE.split(md)
    for i in range(0, len(parts), 2):   # even parts are prose, odd ones code
        parts[i] = HTML_LINK.sub(fix, REF_LINK.sub(lambda m: fix(m) + m.group(3), INLINE_LINK.sub(fix, parts[i])))
    return "".join(parts)


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
        if cell["cell_type"] == "markdown": parts.append(absolute_links(body))
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
