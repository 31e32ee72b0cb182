"""Adding a method is one class and one table entry: it then shows up in run_study, featvae run, results.csv,
the table, the plots and the report."""
import numpy as np
import pandas as pd
import pytest

from featvae.anonymize import Anonymizer
from featvae.cli import main
from featvae.experiment import StudyData, run_study, study_plots, study_table, write_report
from featvae.methods import METHODS, Method, add_method, list_methods, parse_spec


class Jitter(Anonymizer):
    "Each record plus Gaussian noise of scale `scale` (a toy release)."
    def __init__(self, scale: float=0.5, seed: int=0): self.scale, self.seed = scale, seed
    def _resample(self, X, y):
        return X + np.random.default_rng(self.seed).normal(0, self.scale, X.shape).astype(np.float32), y


@pytest.fixture
def toy():
    add_method(Method("toy_jitter", Jitter, "Toy jitter", color="#123456", summary="records plus noise"))
    yield
    del METHODS["toy_jitter"]


def small_data(seed=0, n=120, d=8):
    rng = np.random.default_rng(seed)
    mu = rng.normal(0, 3, (3, d))
    def split(m):
        y = np.repeat(np.arange(3), m // 3)
        return (mu[y] + rng.normal(size=(len(y), d))).astype(np.float32), y
    return StudyData(split(n), split(n // 2), split(n // 2))


def test_toy_method_runs_through_the_study(toy, tmp_path):
    df = run_study("toy", "none", methods=("identity", "toy_jitter:scale=2.0"), seeds=(0, 1), sigmas=(0.0, 1.0),
                   data=small_data(), probe_params=dict(max_epochs=3), privacy_params=dict(n_boot=5), out=tmp_path)
    assert list(dict.fromkeys(df.method)) == ["identity", "toy_jitter:scale=2.0"]
    t = study_table(df)
    assert list(t.index) == ["Real (identity)", "Toy jitter scale=2.0"]
    # the toy's release really is the train set plus noise of that scale: its distance to the real records grows
    num = study_table(df, formatted=False)
    assert num.loc["Toy jitter scale=2.0", "DCR med"] > num.loc["Real (identity)", "DCR med"] == 0
    figs = study_plots(df)
    names = {tr.name for tr in figs["privacy_vs_utility"].data} | {tr.name for tr in figs["auc_vs_sigma"].data}
    assert "Toy jitter" in names and "Toy jitter scale=2.0" in names
    paths = write_report(df, tmp_path / "report")
    back = pd.read_csv(paths["csv"])
    assert "toy_jitter:scale=2.0" in set(back.method)
    assert "| Toy jitter scale=2.0 |" in paths["table"].read_text()
    assert "Toy jitter scale=2.0" in paths["html"].read_text()
    assert "toy_jitter" in set(list_methods().name)


def test_toy_method_through_featvae_run(toy, tmp_path, capsys):
    rc = main(["run", "--dataset", "digits", "--limit", "60", "--image-size", "28", "--methods", "toy_jitter:scale=1.5",
               "--seeds", "0", "--sigmas", "0", "--probe-max-epochs", "2", "--n-boot", "5",
               "--cache-dir", str(tmp_path / "cache"), "--out", str(tmp_path / "out")])
    assert rc == 0
    assert "Toy jitter scale=1.5" in capsys.readouterr().out
    assert set(pd.read_csv(tmp_path / "out" / "results.csv").method) == {"toy_jitter:scale=1.5"}


def test_unknown_method_is_refused_before_any_work(tmp_path):
    with pytest.raises(ValueError, match="unknown method 'toy_jitter'"):
        run_study("toy", "none", methods=("toy_jitter",), data=small_data(), out=tmp_path)


def test_a_spec_names_one_release_everywhere():
    s = parse_spec("ksame:per_class=true,k=10")
    assert str(s) == "ksame:k=10,per_class=true" and parse_spec(str(s)) == s
    assert s.label() == "k-Same per-class k=10"


def test_toy_method_in_the_widget_menu(toy):
    from featvae.explore import umap_explorer
    X, y = small_data().train
    w = umap_explorer((X, y), ["identity", "toy_jitter:scale=2.0"], n=50, fit_size=100, max_points=100, disk=False)
    assert list(w.controls["released"].options) == ["Real (identity)", "Toy jitter scale=2.0"]
    w.controls["released"].value = "Toy jitter scale=2.0"
    assert "Toy jitter scale=2.0" in w.figure.layout.title.text


def test_epsilon_sweep_through_featvae_run(tmp_path, capsys):
    "`--epsilons` runs every DP release once per ε; results.csv carries ε, δ, the spent ε and the attack bound of every unit."
    rc = main(["run", "--dataset", "digits", "--limit", "300", "--image-size", "28",
               "--methods", "identity", "dp_gaussian:rank=4", "--epsilons", "1", "inf",
               "--seeds", "0", "--sigmas", "0", "--probe-max-epochs", "2", "--n-boot", "5",
               "--cache-dir", str(tmp_path / "cache"), "--out", str(tmp_path / "out")])
    assert rc == 0
    assert "ε spent" in capsys.readouterr().out
    df = pd.read_csv(tmp_path / "out" / "results.csv")
    assert set(df.method) == {"identity", "dp_gaussian:epsilon=1,rank=4", "dp_gaussian:epsilon=inf,rank=4"}
    g = df[df.sigma == 0].pivot_table(index="method", columns="metric", values="value")
    assert g[["epsilon", "delta", "epsilon_spent", "epsilon_spent_rdp", "mia_auc_bound"]].notna().all().all()
    dp1 = g.loc["dp_gaussian:epsilon=1,rank=4"]
    assert dp1["epsilon"] == 1 and dp1["delta"] == 1e-5 and 0.99 <= dp1["epsilon_spent"] <= 1.001
    assert dp1["epsilon_spent_rdp"] > dp1["epsilon_spent"]          # RDP is the looser of the two accountants
    assert 0.5 < dp1["mia_auc_bound"] < 1 and dp1["mia_auc"] <= dp1["mia_auc_bound"]
    assert np.isinf(g.loc["identity", "epsilon_spent"]) and g.loc["identity", "mia_auc_bound"] == 1
    assert np.isinf(g.loc["dp_gaussian:epsilon=inf,rank=4", "epsilon_spent"])
