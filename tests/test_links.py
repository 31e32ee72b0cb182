"""The README's links work where the README is read: on GitHub (at the repository root, while the notebooks live
in nbs/), as the package's long description on PyPI, and on the docs site (which renders nbs/index.ipynb).

A relative link works on GitHub only, so every README link must be absolute, and must point at something that
exists: a page of the docs site is a notebook of nbs/ (the site names its pages after the notebooks), a file on
GitHub is a file of this repository. The links of nbs/index.ipynb itself are relative to nbs/ and must exist."""
import configparser
import json
import re
import sys
from pathlib import Path
from urllib.parse import unquote, urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import build_readme  # noqa: E402

CFG = configparser.ConfigParser(delimiters=["="])
CFG.read(ROOT / "settings.ini", encoding="utf-8")
S = CFG["DEFAULT"]
DOCS = S["doc_host"].rstrip("/") + "/" + S["doc_baseurl"].strip("/") + "/"
REPO = S["git_url"].rstrip("/") + "/"

CODE = re.compile(r"```.*?```|`[^`\n]*`", re.S)
LINK = re.compile(r"\]\(\s*<?([^)\s>]+)|^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)|<(?:a|img)\b[^>]*?\s(?:href|src)=[\"']([^\"']+)",
                  re.M | re.I)


def links(md: str) -> list[str]:
    "Every link target of a Markdown text (inline, reference-style, HTML), outside code."
    return [next(g for g in m.groups() if g) for m in LINK.finditer(CODE.sub("", md))]


def markdown_of(nb: Path) -> str:
    return "\n\n".join("".join(c["source"]) for c in json.loads(nb.read_text(encoding="utf-8"))["cells"]
                       if c["cell_type"] == "markdown")


def problem(url: str) -> str | None:
    "Why a README link would not work on GitHub, PyPI and the docs site (None: it works)."
    if url.startswith("#"): return None
    parts = urlsplit(url)
    if not parts.scheme:
        on_github = "works on GitHub" if (ROOT / unquote(parts.path)).exists() else f"and on GitHub: no {parts.path} at the root"
        return f"relative: breaks on PyPI ({on_github})"
    if parts.scheme not in ("http", "https"): return None
    if url.startswith(DOCS):
        page = unquote(parts.path[len(urlsplit(DOCS).path):]) or "index.html"
        if not page.endswith(".html") or not (ROOT / "nbs" / page).with_suffix(".ipynb").exists():
            return f"the docs site has no page {page} (its pages are the notebooks of nbs/)"
    elif url.startswith(REPO):
        m = re.match(r"(?:blob|tree|raw)/[^/]+/(.+)", url[len(REPO):].split("#")[0])
        if m and not (ROOT / unquote(m.group(1))).exists(): return f"no file {m.group(1)} in the repository"
    return None


def test_links_are_found():
    "The link finder sees every kind of link (else the tests below could pass on nothing)."
    md = "[a](x.ipynb) ![b](../y.png \"t\") `[c](code.ipynb)`\n[d]: ../z.md\n<a href=\"w.html\">w</a>\n```\n[e](f)\n```"
    assert links(md) == ["x.ipynb", "../y.png", "../z.md", "w.html"]
    assert problem("02_backbones.ipynb") and problem(DOCS + "backbones.html") and problem(REPO + "blob/main/nope.py")
    assert problem(DOCS + "02_backbones.html") is None and problem(REPO + "blob/main/LICENSE") is None


def test_readme_links_work_on_github_pypi_and_the_site():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    found = links(readme)
    assert len(found) >= 10, f"expected the README's links to the notebooks, found {found}"
    bad = {u: why for u in found if (why := problem(u))}
    assert not bad, "README links that break somewhere:\n" + "\n".join(f"  {u}: {w}" for u, w in bad.items())


def test_index_links_exist_where_index_lives():
    "nbs/index.ipynb is read on GitHub beside the notebooks and rendered as the site's front page."
    for url in links(markdown_of(ROOT / "nbs" / "index.ipynb")):
        if urlsplit(url).scheme or url.startswith("#"): continue
        assert (ROOT / "nbs" / unquote(url.split("#")[0])).exists(), f"nbs/index.ipynb links to missing {url}"


def test_readme_notebook_links_become_site_pages():
    "build_readme turns a link to a notebook into its docs page, and to another file into the file on GitHub."
    md = build_readme.absolute_links("[t](11_tutorial.ipynb#the-table) [l](../LICENSE) [s](#in-python) `[c](x.ipynb)`")
    assert md == (f"[t]({DOCS}11_tutorial.html#the-table) [l]({REPO}blob/{S['branch']}/LICENSE) [s](#in-python) "
                  "`[c](x.ipynb)`")
