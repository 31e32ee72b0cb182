"""`featvae release` as a data owner runs it, and the bundle as a recipient receives it.

The command writes a bundle on the embedded default (Fashion-MNIST through the offline DINOv2 ViT-S/14, the
default study's 2,000 training records); `load_release` reads it back; the gate refuses leaking releases; the
evidence page and the owner's audit gallery are opened in headless Chromium (screenshots in
artifacts/screenshots/, git-ignored)."""
import json
import re
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file

from featvae.cli import main
from featvae.core import CorruptFileError, InputError
from featvae.experiment import DEFAULT_STUDY
from featvae.extract import embed_dataset
from featvae.release import GATE, load_release, release

sys.path.insert(0, str(Path(__file__).resolve().parent / "browser"))
from helpers import SCREENSHOTS, require_browser, run_node  # noqa: E402


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    "A `featvae release` of the recommended generator, written by the command line."
    tmp = tmp_path_factory.mktemp("release")
    rc = main(["release", "--method", "mfa", "--out", str(tmp / "bundle"), "--review", str(tmp / "review")])
    assert rc == 0
    return tmp


@pytest.fixture(scope="module")
def train():
    d = DEFAULT_STUDY
    e = embed_dataset(d["dataset"], d["backbone"], splits=("train",), limit=d["limit"], image_size=d["image_size"], seed=0)
    return e["train"]


def test_round_trip(bundle):
    rel = load_release(bundle / "bundle")
    raw = load_file(str(bundle / "bundle" / "release.safetensors"))
    assert np.array_equal(rel.X, raw["X"]) and np.array_equal(rel.y, raw["y"])
    assert rel.X.shape == (2000, 384) and np.bincount(rel.y).tolist() == [200] * 10
    assert rel.info["spec"] == "mfa" and rel.evidence["gate"]["passed"] is True
    X1, y1 = rel.sample({2: 7, 9: 3}, seed=4)
    X2, _ = load_release(bundle / "bundle").sample({2: 7, 9: 3}, seed=4)
    assert X1.shape == (10, 384) and np.array_equal(X1, X2) and sorted(y1.tolist()) == [2] * 7 + [9] * 3
    xb, yb = next(iter(rel.stream(64, n_batches=1, seed=0)))
    assert xb.shape == (64, 384) and set(yb.tolist()) <= set(range(10))
    assert "## Privacy guarantee" in rel.datasheet and "**None.**" in rel.datasheet


def test_bundle_holds_no_image_and_no_real_record(bundle, train):
    files = sorted(p.name for p in (bundle / "bundle").iterdir())
    assert files == ["datasheet.md", "evidence.html", "evidence.json", "generator.safetensors", "manifest.json", "release.safetensors"]
    for p in (bundle / "bundle").iterdir():
        head = p.read_bytes()[:16]
        assert not head.startswith((b"\x89PNG", b"\xff\xd8\xff", b"GIF8")), p
    page = re.sub(r"<script.*?</script>", "", (bundle / "bundle" / "evidence.html").read_text(), flags=re.S)  # plotly.js itself
    assert "<img" not in page and "data:image" not in page
    rel = load_release(bundle / "bundle")
    real = {r.tobytes() for r in train.x}
    assert not any(r.tobytes() in real for r in rel.X)                        # no released row is a training row
    gen = load_file(str(bundle / "bundle" / "generator.safetensors"))
    assert not any(a.ndim == 2 and a.shape[1] == 384 and any(r.tobytes() in real for r in a.astype(np.float32)) for a in gen.values())
    assert rel.evidence["release"]["share_closer_than_holdout_p5"] <= GATE["max_share_close"]


def test_review_folder_is_apart_from_the_bundle(bundle):
    assert sorted(p.name for p in (bundle / "review").iterdir()) == ["audit.csv", "gallery.html"]
    assert b"data:image/png;base64" in (bundle / "review" / "gallery.html").read_bytes()   # real images: owner only
    with pytest.raises(InputError, match="must lie outside the bundle folder"):
        release(bundle / "b2", review=bundle / "b2" / "review")
    with pytest.raises(InputError, match="already exists and is not an empty folder"):
        release(bundle / "bundle")


@pytest.mark.parametrize("change, message", [
    (lambda t: (t / "release.safetensors").write_bytes((t / "release.safetensors").read_bytes()[:-1] + b"\x00"), "does not match its SHA-256"),
    (lambda t: (t / "datasheet.md").unlink(), "the bundle is incomplete"),
    (lambda t: (t / "evidence.json").write_text((t / "evidence.json").read_text().replace('"passed": true', '"passed": false')),
     "evidence.json does not match"),
    (lambda t: (t / "manifest.json").write_text(json.dumps(dict(json.loads((t / "manifest.json").read_text()), format_version=9))),
     "format version 9"),
    (lambda t: (t / "manifest.json").unlink(), "has no manifest.json"),
], ids=["flipped-byte", "removed-file", "edited-json", "manifest-version", "no-manifest"])
def test_a_tampered_bundle_is_refused(bundle, tmp_path, change, message):
    t = tmp_path / "copy"
    shutil.copytree(bundle / "bundle", t)
    change(t)
    with pytest.raises(CorruptFileError, match=message):
        load_release(t)


def test_manifest_cannot_point_outside_the_bundle(bundle, tmp_path):
    t = tmp_path / "copy"
    shutil.copytree(bundle / "bundle", t)
    m = json.loads((t / "manifest.json").read_text())
    m["files"]["../secret"] = {"sha256": "0" * 64, "bytes": 1}
    (t / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(CorruptFileError, match="outside the bundle folder"):
        load_release(t)


@pytest.mark.parametrize("method", ["identity", "ksame:k=2"])
def test_the_gate_refuses_leaking_releases(tmp_path, capsys, method):
    rc = main(["release", "--method", method, "--out", str(tmp_path / "b"), "--review", str(tmp_path / "r")])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and "fails the release gate" in err[0] and "--override-gate" in err[0], err
    assert not (tmp_path / "b").exists() and (tmp_path / "r" / "gallery.html").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".b.")]     # no half-written bundle left behind


def test_evidence_and_gallery_pages_in_a_browser(bundle):
    require_browser()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    g = run_node("check_page.js", "--url", (bundle / "review" / "gallery.html").as_uri(),
                 "--shot", str(SCREENSHOTS / "release_audit_gallery.png"), timeout=180)
    assert "exception" not in g and not g["console"], g
    assert g["rows"] == 12 and g["images"] == 36 == g["decoded"], g                  # 12 worst cases × 3 real neighbours
    assert "For the data owner only" in g["text"]
    e = run_node("check_page.js", "--url", (bundle / "bundle" / "evidence.html").as_uri(),
                 "--shot", str(SCREENSHOTS / "release_evidence.png"), timeout=180)
    assert "exception" not in e and not e["console"] and e["plots"] == 1, e           # plotly.js embedded: no network
    assert "Release gate: passed" in e["text"]
    for name in ("release_audit_gallery.png", "release_evidence.png"):
        assert (SCREENSHOTS / name).stat().st_size > 10_000


def _no_secret_in(bundle: Path, secrets_seen: list):
    "No file of the bundle holds one of the secret seeds (as JSON or text would write it)."
    for f in bundle.iterdir():
        data = f.read_bytes()
        assert not [s for s in secrets_seen if str(s).encode() in data], f"{f.name} records the secret seed"


@pytest.fixture
def secrets_seen(monkeypatch):
    "The secret seeds `release` draws, recorded here (they stay random)."
    import featvae.release as rel
    seen, draw = [], rel.secrets.randbits
    monkeypatch.setattr(rel.secrets, "randbits", lambda k: seen.append(draw(k)) or seen[-1])
    return seen


def test_a_dp_release_keeps_its_noise_secret(tmp_path, secrets_seen):
    "A DP release is fitted with a secret seed (never recorded), states its guarantee, and ships its DP generator."
    runs = [release(tmp_path / f"b{i}", "dp_gaussian:epsilon=3", review=tmp_path / f"r{i}") for i in range(2)]
    assert len(secrets_seen) == 2 and secrets_seen[0] != secrets_seen[1]
    for r in runs: _no_secret_in(Path(r["bundle"]), secrets_seen)
    a, b = (load_release(r["bundle"]) for r in runs)
    assert a.X.shape[1] == 384 and not np.array_equal(a.X[:50], b.X[:50])     # fresh secret noise each time
    assert "Seed secret" in a.datasheet and "| `seed` | secret |" in a.datasheet
    assert "(ε, δ)-differential privacy" in a.datasheet and "outside the guarantee" in a.datasheet
    g = a.evidence["guarantee"]
    assert g["dp"] is True and 2.9 < g["epsilon_spent"] <= 3.0 * 1.001 and g["delta"] == 1e-5
    assert sorted(np.unique(a.y)) == list(range(10)) and a.info["seed"] is None
    Xs, ys = a.sample({0: 3, 5: 2}, seed=1)                                     # the DP generator travels too
    assert Xs.shape == (5, 384) and sorted(ys.tolist()) == [0, 0, 0, 5, 5]
    assert a.generator.privacy_["epsilon_spent"] == g["epsilon_spent"]


def test_a_dp_sgd_release_ships_its_decoder(tmp_path, monkeypatch):
    "A DP-CVAE release carries its DP decoder, not its seed: with the seed, the decoder redraws the released vectors."
    import featvae.release as rel
    secret = 6_148_914_691_236_517_205
    monkeypatch.setattr(rel.secrets, "randbits", lambda k: secret)
    r = release(tmp_path / "b", "dp_cvae:epsilon=3", review=tmp_path / "r")
    _no_secret_in(Path(r["bundle"]), [secret])
    a = load_release(r["bundle"])
    assert type(a.generator).__name__ == "DPCVAE" and a.generator.seed == 0
    assert a.generator.privacy_["epsilon_spent"] == a.evidence["guarantee"]["epsilon_spent"]
    assert "training_size" in a.generator.privacy_["public"]
    Xr, yr = a.sample({int(c): int((a.y == c).sum()) for c in np.unique(a.y)}, seed=secret)
    np.testing.assert_array_equal(yr, a.y)
    np.testing.assert_array_equal(Xr, a.X)      # the same generator behaviour, bit for bit
