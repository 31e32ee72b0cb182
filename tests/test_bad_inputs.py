"""Bad input is refused the same way everywhere: featvae's own exception (`InputError`, `CorruptFileError`,
`DataNotFoundError`, `OfflineError`), with a message that names the argument and says what to pass instead;
the `featvae` command exits with status 2 and prints one line `featvae: error: ...`, never a traceback.

Every case is one row of a table: what is called, the exception it must raise, the argument the message must
name and a regular expression for the fix the message must state. A row marked `xfail` is a known gap in a
module this suite does not own; its reason says what fails today and the proposed fix (strict: it fails the
suite as soon as the gap is closed, so the mark gets removed)."""
import atexit
import os
import re
import shutil
import subprocess
import sys
import tempfile
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from fastcore.xtras import modified_env

from featvae import core
from featvae.anonymize import ClassGaussian, Identity
from featvae.backbones import (Backbone, convert_imgfocus_onnx, hub_reachable, imgfocus_onnx_path, imgfocus_state_dict,
                               list_backbones, load_backbone, resize_pos_embed)
from featvae.cli import main, summarize_embeddings
from featvae.core import (CorruptFileError, DataNotFoundError, FeatvaeError, InputError, OfflineError, atomic_path,
                          atomic_write, cache_dir, check_bool, check_choice, check_features, check_int, check_labels,
                          check_number, check_probability, check_seed, check_Xy, file_sha256, get_device, limit_threads,
                          seed_everything, stratified_sample, stratified_split)
from featvae.cvae import CVAEAnonymizer, CVAEDecoder, CVAEEncoder, cvae_loss, kl_term
from featvae.data import ImageSet, list_datasets, load_dataset, medmnist_path, read_idx, register_dataset, resize_images
from featvae.dp import DPClassGaussian, DPClassMFA, DPCVAE, DPSigmaCVAE, canary_audit
from featvae.experiment import (COLUMNS, StudyData, Unit, check_study_args, compute_unit, release_metrics, run_study,
                                study_figure, study_markdown, study_plots, study_summary, study_table, study_units,
                                write_report)
from featvae.explore import (KanonGrid, UmapExplorer, class_projection, fit_umap, kanon_figure, kanon_grid,
                             kanon_tradeoff, nearest_real_distance, project, release_sets, umap_explorer, umap_figure)
from featvae.extract import Embeddings, embed_dataset, embeddings_cache_path, extract
from featvae.fidelity import check_labelled_pair, class_frechet, frechet_distance, frechet_from_stats, prdc, prdc_per_class
from featvae.ksame import KSame, ksame_clusters
from featvae.methods import Method, add_method, expand_specs, get_anonymizer, parse_spec, spec_label
from featvae.neighbors import Standardizer, distance_blocks, knn
from featvae.privacy import min_group_size, privacy_report
from featvae.release import load_release, release
from featvae.probe import linear_probe, probe_metrics

# ---------------------------------------------------------------------------------------------------------------
# tiny inputs, made once

rng = np.random.default_rng(0)
X = rng.normal(size=(24, 4)).astype(np.float32)           # 24 records, 4 features
y = np.repeat([0, 1], 12)                                  # two balanced classes
NAN, INF = float("nan"), float("inf")
TMP = Path(tempfile.mkdtemp(prefix="featvae-bad-inputs-"))
atexit.register(shutil.rmtree, TMP, True)
FILE = TMP / "a-file"; FILE.write_text("not a folder")    # a plain file where a folder or a model is expected
(TMP / "junk.npz").write_bytes(b"not a zip")
(TMP / "junk.onnx").write_bytes(b"not a model")
(TMP / "mm").mkdir(); (TMP / "mm" / "dermamnist.npz").write_bytes(b"not a zip")
OUT, CACHE = str(TMP / "out"), str(TMP / "study-cache")   # for `featvae run`: never the user's own folders
HOME_CACHE = str(TMP / "featvae-cache")                   # $FEATVAE_CACHE of the command-line cases


@cache
def gaussian(): return ClassGaussian().fit(X, y)

@cache
def cvae():     return CVAEAnonymizer(hidden_dim=8, latent_dim=2, max_epochs=2, device="cpu").fit(X, y)

@cache
def cvae_file(): return cvae().save(TMP / "cvae.safetensors")

@cache
def toy_backbone():
    model = torch.nn.Sequential(torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten())
    return Backbone("toy", model, dim=3, image_size=8, mean=(0, 0, 0), std=(1, 1, 1), device="cpu")

@cache
def study_data(): return StudyData((X, y), (X, y), (X, y))

@cache
def study_frame():
    return pd.DataFrame(dict(dataset="d", backbone="b", method="identity", seed=0, sigma=0.0, metric="auc", value=1.0),
                        index=[0])[COLUMNS]

@cache
def grid():
    return KanonGrid(pd.DataFrame(dict(method=["ksame"], k=[2], per_class=[False], spec=["ksame:k=2"], probe_auc=[50.0],
                                       mia_auc=[0.5], dcr_median=[1.0])),
                     {(2, False): np.arange(24) // 2}, X, y, ["0", "1"], [2])


def with_env(fn, **env):
    "Call `fn` with environment variables set (and restored after)."
    def call():
        with modified_env(**env): return fn()
    return call


def probe(**kw):
    "`linear_probe` on the tiny set (train = val = test) with keyword arguments `kw`."
    return linear_probe((X, y), (X, y), (X, y), **kw)


def enter(cm):
    "Enter and leave a context manager (whose arguments are checked on entry)."
    with cm: pass

# ---------------------------------------------------------------------------------------------------------------
# the table: (id, call, exception, argument named, fix stated) and an optional xfail reason

INT = lambda lo: rf"integer ≥ {lo}"                   # check_int's statement of what to pass
NUM = r"finite number"                                # check_number's
BOOL = r"True or False"


@cache
def _dp_gaussian_file() -> Path:
    "A DP Gaussian model file (a foreign format for the other DP classes)."
    return DPClassGaussian(epsilon=1.0, rank=1).fit(np.tile(X, (10, 1)), np.tile(y, 10)).save(TMP / "dpg.safetensors")


def row(id, fn, exc, arg, fix, xfail=None):
    marks = [pytest.mark.xfail(strict=True, reason=xfail)] if xfail else []
    return pytest.param(fn, exc, arg, fix, id=id, marks=marks)


def silently_replaced(name, fn, arg, fix, values):
    "One row per bad value of one argument: 0, negative, bool, NaN, inf, a string — never quietly replaced."
    return [row(f"{name}={v!r}", (lambda v=v: fn(v)), InputError, arg, fix) for v in values]


BAD_INTS = (0, -1, True, NAN, INF, "3")      # for arguments that must be integers ≥ 1
BAD_NONNEG = (-1, True, NAN, INF, "1")       # for arguments where 0 is a valid value

CASES = [
    # --- labels that change meaning --------------------------------------------------------------------------
    row("labels-uint64-max", lambda: ClassGaussian().fit(X, np.array([0] * 12 + [2**64 - 1] * 12, np.uint64)),
        InputError, "y", r"relabel the classes"),
    row("labels-float-1e20", lambda: ClassGaussian().fit(X, np.r_[np.zeros(12), np.full(12, 1e20)]),
        InputError, "y", r"pass integer labels"),
    row("labels-float-fraction", lambda: check_labels([0, 0.5]), InputError, "y", r"integer class labels"),
    row("labels-bool", lambda: ClassGaussian().fit(X, y.astype(bool)), InputError, "y", r"integer class labels"),
    row("labels-complex", lambda: ClassGaussian().fit(X, y.astype(complex)), InputError, "y", r"integer class labels"),
    row("labels-strings", lambda: Identity().fit(X, y.astype(str)), InputError, "y", r"integer class labels"),
    row("sample-key-1.5", lambda: gaussian().sample({1.5: 2}), InputError, "labels_or_counts", r"must be integers"),
    row("sample-key-'0'", lambda: gaussian().sample({"0": 2}), InputError, "labels_or_counts", r"must be integers"),
    row("sample-key-True", lambda: gaussian().sample({True: 2}), InputError, "labels_or_counts", r"must be integers"),
    row("sample-count-1.5", lambda: gaussian().sample({0: 1.5}), InputError, "count", INT(0)),
    row("sample-unseen", lambda: gaussian().sample({7: 1}), InputError, "labels", r"known classes: \[0, 1\]"),
    row("cvae-sample-key-1.5", lambda: cvae().sample({1.5: 2}), InputError, "labels_or_counts", r"must be integers"),
    row("cvae-sample-key-'0'", lambda: cvae().sample({"0": 2}), InputError, "labels_or_counts", r"must be integers"),
    row("ksame-per-class-bool-y", lambda: KSame(k=2, per_class=True).fit(X, y.astype(bool)), InputError, "y",
        r"integer class labels"),
    row("probe-float-y", lambda: linear_probe((X, y + 0.5), (X, y), (X, y)), InputError, "train y", r"integer class labels"),
    row("imageset-bool-labels", lambda: ImageSet.from_arrays(np.zeros((2, 4, 4), np.uint8), [True, False]),
        InputError, "labels", r"integer class labels"),
    row("embeddings-labels-beyond-classes", lambda: Embeddings(X, y, classes=["only one"]), InputError, "labels",
        r"one per class name"),

    # --- arguments silently replaced: 0, negative, bool, NaN, inf, strings -------------------------------------
    *silently_replaced("knn-k", lambda v: knn(X, X, k=v), "k", INT(1), BAD_INTS),
    *silently_replaced("ksame-k", lambda v: ksame_clusters(X, k=v, show_progress=False), "k", INT(2), BAD_INTS),
    *silently_replaced("prdc-k", lambda v: prdc(X, X, k=v), "k", INT(1), BAD_INTS),
    *silently_replaced("load_dataset-limit", lambda v: load_dataset("digits", limit=v), "limit", INT(1), BAD_INTS),
    *silently_replaced("load_backbone-image_size", lambda v: load_backbone(image_size=v), "image_size", INT(14), BAD_INTS),
    *silently_replaced("check_study_args-seeds", lambda v: check_study_args(seeds=(v,)), "seeds", INT(0),
                       (-1, True, NAN, INF, "x")),     # numeric strings ("1") are parsed: the CLI's "0,1,2"
    *silently_replaced("check_study_args-sigmas", lambda v: check_study_args(sigmas=(v,)), "sigmas", NUM,
                       (-1, True, NAN, INF, "x")),
    *silently_replaced("probe-noise_sigmas", lambda v: probe(noise_sigmas=[v]),
                       "noise_sigmas", NUM, (-1, True, NAN, INF)),
    *silently_replaced("privacy-n_boot", lambda v: privacy_report(X, X, X, n_boot=v), "n_boot", INT(0), BAD_NONNEG),
    *silently_replaced("distance_blocks-block", lambda v: distance_blocks(X, X, block=v), "block", INT(1), BAD_INTS),
    *silently_replaced("probe-lr", lambda v: probe(lr=v), "lr", NUM, (0, -1, True, NAN, INF, "0.1", 1e38)),
    *silently_replaced("probe-batch_size", lambda v: probe(batch_size=v), "batch_size", INT(1), BAD_INTS),
    *silently_replaced("probe-max_epochs", lambda v: probe(max_epochs=v), "max_epochs", INT(1), BAD_INTS),
    *silently_replaced("probe-patience", lambda v: probe(patience=v), "patience", INT(1), BAD_INTS),
    *silently_replaced("cvae-lr", lambda v: CVAEAnonymizer(lr=v).fit(X, y), "lr", NUM, (0, -1, True, NAN, INF, "0.1")),
    *silently_replaced("cvae-batch_size", lambda v: CVAEAnonymizer(batch_size=v).fit(X, y), "batch_size", INT(1), BAD_INTS),
    *silently_replaced("cvae-max_epochs", lambda v: CVAEAnonymizer(max_epochs=v).fit(X, y), "max_epochs", INT(1), BAD_INTS),
    *silently_replaced("cvae-patience", lambda v: CVAEAnonymizer(patience=v).fit(X, y), "patience", INT(1), BAD_INTS),
    *silently_replaced("cvae-temperature", lambda v: cvae().sample({0: 2}, temperature=v), "temperature", NUM, BAD_NONNEG),
    *silently_replaced("class_gaussian-shrinkage", lambda v: ClassGaussian(shrinkage=v).fit(X, y), "shrinkage", NUM,
                       (-1, 2, True, NAN, INF, "0.5")),
    *silently_replaced("limit_threads-threads", lambda v: enter(limit_threads(v)), "threads", INT(1), BAD_INTS),
    row("run_study-threads=0", lambda: run_study("toy", "none", methods=("identity",), seeds=(0,), data=study_data(),
                                                 threads=0, out=TMP / "s"), InputError, "threads", INT(1)),

    # --- arrays: 1-D, 3-D, empty, complex, NaN/inf, object, mismatched D and lengths, one class ---------------
    row("X-1d", lambda: Identity().fit(X[:, 0]), InputError, "X", r"2-D \(n_samples × n_features\)"),
    row("X-3d", lambda: Identity().fit(X[None]), InputError, "X", r"2-D \(n_samples × n_features\)"),
    row("X-empty", lambda: Identity().fit(np.zeros((0, 4))), InputError, "X", r"at least 1 row"),
    row("X-no-columns", lambda: knn(X[:, :0], X[:, :0]), InputError, "ref", r"no feature columns"),
    row("X-complex-refused-not-real", lambda: KSame(k=2).fit(X + 1j), InputError, "X", r"pass X\.real or X\.abs\(\) explicitly"),
    row("X-complex-knn", lambda: knn(X.astype(np.complex64), X), InputError, "query", r"pass X\.real"),
    row("X-nan", lambda: ClassGaussian().fit(np.where(X > 1, np.nan, X), y), InputError, "X", r"remove or impute them"),
    row("X-inf", lambda: prdc(np.where(X > 1, np.inf, X), X), InputError, "real", r"remove or impute them"),
    row("X-object", lambda: Standardizer().fit(X.astype(object)), InputError, "X", r"must be numeric"),
    row("X-strings", lambda: check_features([["a", "b"]]), InputError, "X", r"must be numeric"),
    row("X-val-other-D", lambda: Identity().fit(X, y, X[:, :3], y), InputError, "X_val", r"same backbone\?"),
    row("probe-val-other-D", lambda: linear_probe((X, y), (X[:, :3], y), (X, y)), InputError, "val X", r"same backbone\?"),
    row("probe-test-other-D", lambda: linear_probe((X, y), (X, y), (X[:, :3], y)), InputError, "test X", r"same backbone\?"),
    row("privacy-released-other-D", lambda: privacy_report(X, X[:, :3], X), InputError, "released", r"same backbone\?"),
    row("prdc-fake-other-D", lambda: prdc(X, X[:, :3]), InputError, "fake", r"same backbone"),
    row("frechet-B-other-D", lambda: frechet_distance(X, X[:, :3]), InputError, "B", r"features but A has 4"),
    row("resample-other-D", lambda: gaussian().resample(X[:, :3], y), InputError, "X", r"same backbone\?"),
    row("X-y-lengths", lambda: check_Xy(X, y[:-1]), InputError, "y", r"23 labels but X has 24 rows"),
    row("val-only-X", lambda: Identity().fit(X, y, X, None), InputError, "y_val", r"pass both X_val and y_val"),
    row("one-class-gaussian", lambda: ClassGaussian().fit(X, np.zeros(24)), InputError, "y", r"at least 2 distinct classes"),
    row("one-class-probe-train", lambda: linear_probe((X, np.zeros(24)), (X, y), (X, y)), InputError, "train y",
        r"at least 2 distinct classes"),
    row("one-class-probe-test", lambda: linear_probe((X, y), (X, y), (X, np.zeros(24))), InputError, "test y",
        r"at least 2 distinct classes"),
    row("probe_metrics-one-class", lambda: probe_metrics(np.zeros(4, int), np.full((4, 2), 0.5)), InputError, "y_true",
        r"a set with two or more classes"),
    row("probe_metrics-1d-proba", lambda: probe_metrics([0, 1], [0.2, 0.8]), InputError, "proba", r"2-D"),
    row("probe_metrics-label-beyond-columns", lambda: probe_metrics([0, 2], [[0.2, 0.8], [0.5, 0.5]]), InputError,
        "y_true", r"pass class indices 0\.\.1"),

    # --- k-Same on huge values, the probe's lr, PRDC on identical constant sets, k > N, block = 0 --------------
    row("knn-k>N", lambda: knn(X, X, k=25), InputError, "k", r"ref has 24 row\(s\) to choose from"),
    row("knn-k>N-exclude_self", lambda: knn(X, X, k=24, exclude_self=True), InputError, "k", r"other than the query itself"),
    row("knn-1e20", lambda: knn(X * 1e20, X), InputError, "query", r"rescale the features"),
    row("privacy-1e19", lambda: privacy_report(X * 1e19, X * 1e19, X * 1e19, n_boot=0), InputError, "real_train",
        r"rescale the features"),
    row("prdc-1e19", lambda: prdc(X * 1e19, X * 1e19), InputError, "real", r"rescale the features"),
    row("prdc-identical-constant-sets", lambda: prdc(np.ones((10, 3)), np.ones((10, 3)), k=2), InputError, "real",
        r"deduplicate real"),
    row("probe-lr-inf", lambda: probe(lr=INF), InputError, "lr", r"Adam's step size"),
    row("knn-block=0", lambda: knn(X, X, block=0), InputError, "block", r"rows per block"),
    row("privacy-block=0", lambda: privacy_report(X, X, X, n_boot=0, block=0), InputError, "block", r"rows per block"),
    row("prdc-k>=N", lambda: prdc(X, X, k=24), InputError, "k", r"needs more than 24"),
    row("ksame-k>N", lambda: KSame(k=25).fit(X), InputError, "k", r"use a smaller k"),
    row("ksame-per_class-small-class", lambda: KSame(k=13, per_class=True).fit(X, y), InputError, "per_class",
        r"use per_class=False, a smaller k"),
    row("ksame-per_class-no-y", lambda: KSame(per_class=True).fit(X), InputError, "per_class", r"call fit\(X, y\)"),

    # --- method specs ------------------------------------------------------------------------------------------
    row("spec-unknown-method", lambda: parse_spec("ksme"), InputError, "ksme", r"did you mean ksame"),
    row("spec-unknown-parameter", lambda: parse_spec("ksame:kk=3"), InputError, "kk", r"it takes k, per_class"),
    row("spec-k=abc", lambda: parse_spec("ksame:k=abc"), InputError, "k", INT(2)),
    row("spec-k=1.5", lambda: parse_spec("ksame:k=1.5"), InputError, "k", INT(2)),
    row("spec-k=true", lambda: parse_spec("ksame:k=true"), InputError, "k", INT(2)),
    row("spec-per_class=1", lambda: parse_spec("ksame:per_class=1"), InputError, "per_class", BOOL),
    row("spec-lr=-1", lambda: parse_spec("cvae:lr=-1"), InputError, "lr", NUM),
    row("spec-scaling=l2", lambda: parse_spec("cvae:scaling=l2"), InputError, "scaling", r"one of 'zscore', 'minmax'"),
    row("spec-grid-value", lambda: expand_specs("ksame:k=2|x"), InputError, "k", INT(2)),
    row("spec-preset=foo", lambda: parse_spec("ksame:preset=foo"), InputError, "preset", r"one of 'paper'"),
    row("spec-no-paper-preset", lambda: parse_spec("class_gaussian:preset=paper"), InputError, "preset", r"no paper preset"),
    row("spec-seed", lambda: parse_spec("ksame:seed=1"), InputError, "seed", r"set per run .*seeds="),
    row("spec-device", lambda: parse_spec("cvae:device=cpu"), InputError, "device", r"set per run .*device="),
    row("spec-not-key=value", lambda: parse_spec("ksame:k"), InputError, "'k'", r"key=value"),
    row("spec-not-a-string", lambda: parse_spec(None), InputError, "spec", r"such as 'ksame:k=5'"),
    row("spec_label-unknown", lambda: spec_label("nope"), InputError, "nope", r"methods: identity"),
    row("expand_specs-empty", lambda: expand_specs([]), InputError, "method", r"methods: identity"),
    row("get_anonymizer-unknown-kw", lambda: get_anonymizer("ksame", kk=2), InputError, "kk", r"it takes k"),
    row("get_anonymizer-seed=-1", lambda: get_anonymizer("cvae", seed=-1), InputError, "seed", INT(0)),
    row("make-k=1", lambda: parse_spec("ksame").make(k=1), InputError, "k", INT(2)),
    row("add_method-name", lambda: add_method(Method("my method", Identity, "x")), InputError, "name", r"identifier such as"),
    row("add_method-cls", lambda: add_method(Method("mine", Embeddings, "x")), InputError, "cls", r"Anonymizer subclass"),
    row("add_method-mode", lambda: add_method(Method("mine", Identity, "x", mode="live")), InputError, "mode",
        r"one of 'offline', 'online'"),
    row("check_study_args-method_params", lambda: check_study_args(method_params={"nope": {}}), InputError,
        "method_params", r"methods: identity"),
    row("check_study_args-bad-value", lambda: check_study_args(method_params={"cvae": {"lr": -1}}), InputError, "lr", NUM),
]

CORE = "featvae.core (00_core)"
XP = "featvae.experiment (08_experiment)"
CASES += [
    # --- featvae.core --------------------------------------------------------------------------------------------
    row("check_int-string", lambda: check_int("3", "n", low=1), InputError, "n", INT(1)),
    row("check_number-nan", lambda: check_number(NAN, "x", low=0), InputError, "x", NUM),
    row("check_seed-negative", lambda: check_seed(-1), InputError, "seed", INT(0)),
    row("check_probability-1.5", lambda: check_probability(1.5, "p"), InputError, "p", r"≤ 1"),
    row("check_bool-1", lambda: check_bool(1, "flag"), InputError, "flag", BOOL),
    row("check_choice-unknown", lambda: check_choice("x", "kind", ("a", "b")), InputError, "kind", r"one of 'a', 'b'"),
    row("check_dir-file", lambda: core.check_dir(FILE, "--out"), InputError, "--out", r"point --out at a folder"),
    row("cache_dir-FEATVAE_CACHE-file", with_env(lambda: cache_dir("x"), FEATVAE_CACHE=str(FILE)), InputError,
        "FEATVAE_CACHE", r"point FEATVAE_CACHE at a folder"),
    row("atomic_write-read-mode", lambda: enter(atomic_write(TMP / "x", "r")), InputError, "mode", r"write mode such as 'w'"),
    row("atomic_path-into-a-file", lambda: enter(atomic_path(FILE / "x.npz")), InputError, "a-file", r"folder"),
    row("atomic_path-onto-a-folder", lambda: enter(atomic_path(TMP)), InputError, "path", r"file name"),
    row("file_sha256-missing", lambda: file_sha256(TMP / "missing"), DataNotFoundError, "missing", r"no file|not found"),
    row("seed_everything-negative", lambda: seed_everything(-1), InputError, "seed", INT(0)),
    row("get_device-unknown", lambda: get_device("gpu"), InputError, "device", r"use 'cpu', 'cuda'"),
    row("check_labels-2d", lambda: check_labels(np.zeros((3, 2))), InputError, "y", r"1-D class labels"),
    row("stratified_sample-n=-1", lambda: stratified_sample(y, -1), InputError, "n", INT(0)),
    row("stratified_sample-n=1.5", lambda: stratified_sample(y, 1.5), InputError, "n", INT(0)),
    row("stratified_sample-seed=-1", lambda: stratified_sample(y, 5, seed=-1), InputError, "seed", INT(0)),
    row("stratified_split-unknown-part", lambda: stratified_split(y, {"tset": 0.2}), InputError, "fractions",
        r"train.*val.*test"),
    row("stratified_split-fraction-1.5", lambda: stratified_split(y, {"test": 1.5}), InputError, "fractions", r"≤ 1",
),

    # --- featvae.data --------------------------------------------------------------------------------------------
    row("load_dataset-unknown", lambda: load_dataset("fashion_mnst"), InputError, "fashion_mnst", r"did you mean fashionmnist"),
    row("load_dataset-name-not-str", lambda: load_dataset(5), InputError, "name", r"such as 'fashionmnist'"),
    row("load_dataset-split", lambda: load_dataset("digits", "training"), InputError, "split", r"one of 'train', 'val', 'test'"),
    row("load_dataset-size=0", lambda: load_dataset("digits", size=0), InputError, "size", INT(1)),
    row("load_dataset-size=(0,3)", lambda: load_dataset("digits", size=(0, 3)), InputError, "size[0]", INT(1)),
    row("load_dataset-seed=-1", lambda: load_dataset("digits", seed=-1), InputError, "seed", INT(0)),
    row("load_dataset-download='yes'", lambda: load_dataset("digits", download="yes"), InputError, "download", BOOL),
    row("load_dataset-limit<classes", lambda: load_dataset("digits", limit=5), InputError, "limit", r"use limit ≥ 10"),
    row("load_dataset-root-is-a-file", lambda: load_dataset("fashionmnist", root=FILE), InputError, "root",
        r"pass the folder"),
    row("load_dataset-root-not-a-path", lambda: load_dataset("digits", root=5), InputError, "root", r"a str or Path"),
    row("load_dataset-medmnist-missing", lambda: load_dataset("medmnist/breastmnist", root=TMP), DataNotFoundError,
        "breastmnist", r"download=True"),
    row("load_dataset-medmnist-corrupt", lambda: load_dataset("medmnist/dermamnist", root=TMP / "mm"), CorruptFileError,
        "dermamnist", r"download it again"),
    row("load_dataset-folder-missing", lambda: load_dataset(f"folder:{TMP}/nowhere"), DataNotFoundError, "folder:",
        r"pass 'folder:<path"),
    row("load_dataset-medimeta-missing", lambda: load_dataset("medimeta/derm/disease", root=TMP), DataNotFoundError,
        "medimeta/derm", r"unpack it into"),
    row("list_datasets-root", lambda: list_datasets(root=5), InputError, "root", r"a str or Path"),
    row("ImageSet-float-images", lambda: ImageSet.from_arrays(np.zeros((2, 4, 4), np.float32), [0, 1]), InputError,
        "images", r"\(images \* 255\)\.round\(\)"),
    row("ImageSet-channel-first", lambda: ImageSet(np.zeros((2, 3, 4, 4), np.uint8), [0, 1]), InputError, "images",
        r"transpose\(0, 2, 3, 1\)"),
    row("ImageSet-few-class-names", lambda: ImageSet.from_arrays(np.zeros((2, 4, 4), np.uint8), [0, 1], classes=["a"]),
        InputError, "classes", r"one name per class"),
    row("ImageSet.subset-out-of-range", lambda: ImageSet.from_arrays(np.zeros((2, 4, 4), np.uint8), [0, 1]).subset([5]),
        InputError, "idx", r"out of range for an ImageSet of 2"),
    row("register_dataset-name", lambda: register_dataset(5, "d", "s", lambda root=None: True), InputError, "name",
        r"non-empty string"),
    row("resize_images-size=0", lambda: resize_images(np.zeros((2, 4, 4), np.uint8), 0), InputError, "size", INT(1)),
    row("resize_images-batch=0", lambda: resize_images(np.zeros((2, 4, 4), np.uint8), 3, batch=0), InputError, "batch", INT(1)),
    row("read_idx-not-idx", lambda: read_idx(FILE), CorruptFileError, "a-file", r"get a fresh copy"),
    row("medmnist_path-flag", lambda: medmnist_path("bloodmnst"), InputError, "flag", r"one of .*'bloodmnist'"),
    row("medmnist_path-size", lambda: medmnist_path("bloodmnist", 32), InputError, "size", r"one of 28, 64, 128, 224"),

    # --- featvae.backbones ---------------------------------------------------------------------------------------
    row("load_backbone-unknown", lambda: load_backbone("dinov3"), InputError, "dinov3", r"choose one of"),
    row("load_backbone-name-not-str", lambda: load_backbone(5), InputError, "name", r"must be a string"),
    row("load_backbone-image_size=15", lambda: load_backbone(image_size=15), InputError, "image_size",
        r"multiple of the patch size 14"),
    row("load_backbone-pretrained=1", lambda: load_backbone(pretrained=1), InputError, "pretrained", BOOL),
    row("load_backbone-offline", with_env(lambda: load_backbone("dinov2_vits14"), HF_HUB_OFFLINE="1"), OfflineError,
        "dinov2_vits14", r"use the offline backbone 'dinov2_vits14_imgfocus'"),
    row("imgfocus_onnx_path-verify", lambda: imgfocus_onnx_path(verify="yes"), InputError, "verify", BOOL),
    row("convert_imgfocus_onnx-missing", lambda: convert_imgfocus_onnx(TMP / "none.onnx"), DataNotFoundError, "none.onnx",
        r"pass the path"),
    row("convert_imgfocus_onnx-corrupt", lambda: convert_imgfocus_onnx(TMP / "junk.onnx"), CorruptFileError, "junk.onnx",
        r"cannot read ONNX"),
    row("imgfocus_state_dict-refresh", lambda: imgfocus_state_dict(refresh=1), InputError, "refresh", BOOL),
    row("resize_pos_embed-grid=0", lambda: resize_pos_embed(torch.zeros(1, 5, 4), 0), InputError, "grid", INT(1)),
    row("resize_pos_embed-ndarray", lambda: resize_pos_embed(np.zeros((1, 5, 4)), 2), InputError, "pos_embed", r"torch tensor"),
    row("hub_reachable-timeout=0", lambda: hub_reachable(0), InputError, "timeout", r"> 0"),
    row("Backbone-model-not-module", lambda: Backbone("x", "model", dim=3, image_size=8), InputError, "model",
        r"torch\.nn\.Module"),
    row("Backbone-std-zero", lambda: Backbone("x", torch.nn.Identity(), dim=3, image_size=8, std=(1, 0, 1)), InputError,
        "std[1]", r"> 0"),
    row("Backbone-mean-two-values", lambda: Backbone("x", torch.nn.Identity(), dim=3, image_size=8, mean=(0.5, 0.5)),
        InputError, "mean", r"one per RGB channel"),
    row("Backbone.to-unknown-device", lambda: toy_backbone().to("gpu"), InputError, "device", r"use 'cpu'"),
    row("Backbone.embed-float", lambda: toy_backbone().embed(np.zeros((2, 8, 8, 3), np.float32)), InputError, "images",
        r"astype\('uint8'\)"),
    row("Backbone.embed-channel-first", lambda: toy_backbone().embed(np.zeros((2, 3, 8, 8), np.uint8)), InputError,
        "images", r"channels last"),
    row("Backbone.embed-batch_size=0", lambda: toy_backbone().embed(np.zeros((2, 8, 8, 3), np.uint8), batch_size=0),
        InputError, "batch_size", INT(1)),
    row("Backbone.preprocess-float", lambda: toy_backbone().preprocess(np.zeros((2, 8, 8, 3), np.float32)), InputError,
        "batch", r"uint8"),
    row("list_backbones-check_network", lambda: list_backbones(check_network=1), InputError, "check_network", BOOL),

    # --- featvae.extract (03_extract) ------------------------------------------------------------------------------
    row("Embeddings-x-1d", lambda: Embeddings(X[:, 0], y), InputError, "x", r"2-D"),
    row("Embeddings-y-length", lambda: Embeddings(X, y[:-1]), InputError, "y", r"23 labels but X has 24"),
    row("Embeddings.save-suffix", lambda: Embeddings(X, y).save(TMP / "e.txt"), InputError, "path", r"\.npz or \.safetensors"),
    row("Embeddings.save-into-a-file", lambda: Embeddings(X, y).save(FILE / "e.npz"), InputError, "a-file", r"folder"),
    row("Embeddings.to_reference_npz-a-folder", lambda: Embeddings(X, y).to_reference_npz(TMP), InputError, "path",
        r"file name"),
    row("Embeddings.load-missing", lambda: Embeddings.load(TMP / "missing.npz"), DataNotFoundError, "missing.npz",
        r"create it with Embeddings\.save"),
    row("Embeddings.load-corrupt", lambda: Embeddings.load(TMP / "junk.npz"), CorruptFileError, "junk.npz",
        r"(create|extract) it again|extract again"),
    row("extract-not-an-imageset", lambda: extract(X), InputError, "imageset", r"must be an ImageSet"),
    row("extract-backbone-not-a-name", lambda: extract(ImageSet(np.zeros((2, 4, 4), np.uint8), [0, 1]), backbone=5),
        InputError, "backbone", r"a name \(see list_backbones\(\)\)"),
    row("embeddings_cache_path-split", lambda: embeddings_cache_path("digits", "training", "b", 56), InputError, "split",
        r"one of 'train'"),
    row("embeddings_cache_path-image_size", lambda: embeddings_cache_path("digits", "train", "b", 0), InputError,
        "image_size", INT(1)),
    row("embed_dataset-splits", lambda: embed_dataset("digits", splits=[]), InputError, "splits", r"at least one of"),
    row("embed_dataset-limit=0", lambda: embed_dataset("digits", limit=0), InputError, "limit", INT(1)),
    row("embed_dataset-image_size=13", lambda: embed_dataset("digits", image_size=13), InputError, "image_size", INT(14)),
    row("embed_dataset-batch_size=0", lambda: embed_dataset("digits", batch_size=0), InputError, "batch_size", INT(1)),

    # --- featvae.anonymize and featvae.cvae (03a_anonymize, 04_cvae) -----------------------------------------------
    row("Identity-resample-before-fit", lambda: Identity().resample(X), InputError, "Identity", r"call fit\(X, y\) first"),
    row("ClassGaussian-needs-y", lambda: ClassGaussian().fit(X), InputError, "y", r"call fit\(X, y\)"),
    row("ClassGaussian-seed", lambda: ClassGaussian(seed=True).fit(X, y), InputError, "seed", INT(0)),
    row("ClassGaussian.sample-seed", lambda: gaussian().sample({0: 1}, seed=-1), InputError, "seed", INT(0)),
    row("kl_term-kind", lambda: kl_term(torch.zeros(1, 2), torch.zeros(1, 2), "x"), InputError, "kind",
        r"one of 'standard', 'legacy'"),
    row("cvae_loss-beta-nan", lambda: cvae_loss(*[torch.zeros(1, 2)] * 4, beta=NAN), InputError, "beta", NUM),
    row("CVAEEncoder-in_dim=0", lambda: CVAEEncoder(0, 2), InputError, "in_dim", INT(1)),
    row("CVAEDecoder-latent_dim=0", lambda: CVAEDecoder(3, 2, latent_dim=0), InputError, "latent_dim", INT(1)),
    row("cvae-scaling", lambda: CVAEAnonymizer(scaling="l2").fit(X, y), InputError, "scaling", r"one of 'zscore', 'minmax'"),
    row("cvae-lr-huge", lambda: CVAEAnonymizer(lr=1e38, max_epochs=1).fit(X, y), InputError, "lr", r"≤"),

    # --- differentially private models -------------------------------------------------------------------------
    row("dp-epsilon=0", lambda: DPClassGaussian(epsilon=0).fit(X, y), InputError, "epsilon", r"or math\.inf"),
    row("dp-epsilon=nan", lambda: DPClassGaussian(epsilon=NAN).fit(X, y), InputError, "epsilon", r"or math\.inf"),
    row("dp-delta=0.5", lambda: DPClassGaussian(delta=0.5).fit(X, y), InputError, "delta", r"1e-5 is usual"),
    row("dp-delta>=1/N", lambda: DPClassGaussian(delta=0.009).fit(np.tile(X, (10, 1)), np.tile(y, 10)), InputError,
        "delta", r"use a smaller delta"),
    row("dp-accountant", lambda: DPClassGaussian(accountant="gdp").fit(X, y), InputError, "accountant", r"one of 'prv', 'rdp'"),
    row("dp-counts", lambda: DPClassGaussian(counts="exact").fit(X, y), InputError, "counts", r"one of 'dp', 'public'"),
    row("dp-rank>D", lambda: DPClassGaussian(rank=5).fit(X, y), InputError, "rank", r"cannot exceed the 4 features"),
    row("dp-covariance", lambda: DPClassGaussian(covariance="full").fit(X, y), InputError, "covariance", r"'shared', 'per_class'"),
    row("dp-clip_norm<0", lambda: DPCVAE(clip_norm=-1).fit(X, y), InputError, "clip_norm", r"public bound"),
    row("dp-stats_share", lambda: DPCVAE(stats_share=0.9).fit(X, y), InputError, "stats_share", r"DP-SGD gets the rest"),
    row("dp-public_scaling-shape", lambda: DPCVAE(public_scaling=(np.zeros(3), np.ones(3))).fit(X, y), InputError,
        "public_scaling", r"two arrays of 4 values"),
    row("dp-public_scaling-type", lambda: DPCVAE(public_scaling=[0, 1]).fit(X, y), InputError, "public_scaling",
        r"pair \(shift, scale\)"),
    row("dp-max_grad_norm=0", lambda: DPSigmaCVAE(max_grad_norm=0).fit(X, y), InputError, "max_grad_norm", r"> 0"),
    row("dp-ghost_clipping", lambda: DPCVAE(ghost_clipping="yes").fit(X, y), InputError, "ghost_clipping", r"True or False"),
    row("dp-save-unfitted", lambda: DPCVAE().save(TMP / "dp.safetensors"), InputError, "DPCVAE", r"call fit\(X, y\) first"),
    row("dp-load-device", lambda: DPClassMFA.load(TMP / "m.safetensors", device="cpu"), InputError, "device", r"leave device out"),
    row("dp-load-foreign", lambda: DPClassMFA.load(_dp_gaussian_file()), CorruptFileError, "featvae.dp_mfa",
        r"load it with the class that wrote it"),
    row("canary-statistic", lambda: canary_audit(DPClassGaussian, X, y, X[0], 0, statistic="max"), InputError, "statistic",
        r"one of 'mean', 'spread'"),
    row("canary-n_trials=1", lambda: canary_audit(DPClassGaussian, X, y, X[0], 0, n_trials=1), InputError, "n_trials", INT(2)),
    row("canary-shape", lambda: canary_audit(DPClassGaussian, X, y, X[0, :3], 0), InputError, "canary",
        r"one record with X's 4 features"),
    row("dp-seed>63-bit", lambda: DPCVAE(seed=2**63).fit(X, y), InputError, "seed", r"≤ 9223372036854775807"),
    row("study-epsilons=0", lambda: check_study_args(methods=("dp_gaussian",), epsilons=(0,)), InputError, "epsilons",
        r"or math\.inf"),
    row("dp_mfa-components=0", lambda: DPClassMFA(components=0).fit(X, y), InputError, "components", INT(1)),

    # --- release bundles ---------------------------------------------------------------------------------------
    row("release-gate-unknown", lambda: release(TMP / "rel-a", gate={"max_mia": 0.5}), InputError, "max_mia",
        r"it takes max_share_close, max_mia_auc"),
    row("release-gate>1", lambda: release(TMP / "rel-b", gate={"max_mia_auc": 2}), InputError, "max_mia_auc", r"≤ 1"),
    row("release-out-is-a-file", lambda: release(FILE), InputError, "a-file", r"give a new folder"),
    row("release-review-inside", lambda: release(TMP / "rel-c", review=TMP / "rel-c" / "r"), InputError, "review",
        r"must lie outside the bundle folder"),
    row("release-unknown-method", lambda: release(TMP / "rel-d", "mfaa"), InputError, "mfaa", r"did you mean mfa"),
    row("load_release-missing", lambda: load_release(TMP / "no-such-bundle"), DataNotFoundError, "no-such-bundle",
        r"give the folder `featvae release` wrote"),
    row("load_release-not-a-bundle", lambda: load_release(TMP), CorruptFileError, "manifest.json", r"ask the data owner"),
    row("cvae.sample-chunk=0", lambda: cvae().sample({0: 2}, chunk=0), InputError, "chunk", INT(1)),
    row("cvae.stream-batch_size=0", lambda: cvae().stream(0), InputError, "batch_size", INT(1)),
    row("cvae.stream-n_batches=-1", lambda: cvae().stream(4, n_batches=-1), InputError, "n_batches", INT(0)),
    row("cvae.stream-class_probs", lambda: cvae().stream(4, class_probs=[-1, 2]), InputError, "class_probs",
        r"non-negative with a positive sum"),
    row("cvae.encode-other-D", lambda: cvae().encode(X[:, :3], y), InputError, "X", r"same backbone\?"),
    row("cvae.save-unfitted", lambda: CVAEAnonymizer().save(TMP / "m.safetensors"), InputError, "CVAEAnonymizer",
        r"call fit\(X, y\) first"),
    row("cvae.load-missing", lambda: CVAEAnonymizer.load(TMP / "none.safetensors"), DataNotFoundError, "none.safetensors",
        r"save one with"),
    row("cvae.load-corrupt", lambda: CVAEAnonymizer.load(FILE), CorruptFileError, "a-file", r"re-save the model|save the model again"),
    row("cvae.load-expected_dim", lambda: CVAEAnonymizer.load(cvae_file(), expected_dim=5), InputError, "5-d",
        r"another backbone"),
    row("cvae.load-expected_dim-str", lambda: CVAEAnonymizer.load(cvae_file(), expected_dim="4"), InputError,
        "expected_dim", INT(1)),
    row("Standardizer-kind", lambda: Standardizer("robust"), InputError, "kind", r"one of 'zscore', 'minmax'"),
    row("Standardizer-eps", lambda: Standardizer(eps=-1), InputError, "eps", NUM),
    row("Standardizer-not-fitted", lambda: Standardizer().transform(X), InputError, "Standardizer", r"call \.fit"),
    row("Standardizer.transform-other-D", lambda: Standardizer().fit(X).transform(X[:, :3]), InputError, "X", r"same backbone"),
    row("Standardizer.transform-3d-tensor", lambda: Standardizer().fit(X).transform(torch.zeros(2, 3, 4)), InputError, "X",
        r"pass an N×4 tensor"),
    row("Standardizer.inverse_transform-other-D", lambda: Standardizer().fit(X).inverse_transform(X[:, :3]), InputError,
        "Z", r"same backbone"),
    row("Standardizer.fit_transform-nan", lambda: Standardizer().fit_transform(np.full((2, 2), np.nan)), InputError, "X",
        r"remove or impute"),
    row("knn-exclude_self=1", lambda: knn(X, X, exclude_self=1), InputError, "exclude_self", BOOL),
    row("knn-exclude_self-other-set", lambda: knn(X[:5], X, exclude_self=True), InputError, "exclude_self", r"same set"),
    row("distance_blocks-snap-nan", lambda: distance_blocks(X, X, snap=NAN), InputError, "snap", r"e\.g\. 1e-5"),
    row("distance_blocks-squared", lambda: distance_blocks(X, X, squared="no"), InputError, "squared", BOOL),
    row("min_group_size-1d", lambda: min_group_size(X[:, 0]), InputError, "released", r"2-D"),
    row("privacy-k_anonymity=0", lambda: privacy_report(X, X, X, n_boot=0, k_anonymity=0), InputError, "k_anonymity",
        r"or None for no check"),
    row("privacy-standardize=1", lambda: privacy_report(X, X, X, standardize=1), InputError, "standardize", BOOL),
    row("privacy-one-real-row", lambda: privacy_report(X[:1], X, X), InputError, "real_train", r"at least 2 row"),
    row("check_labelled_pair-unseen", lambda: check_labelled_pair(X, y, X, y + 5), InputError, "fake_y", r"real_y never shows"),
    row("prdc_per_class-k", lambda: prdc_per_class(X, y, X, y, k=0), InputError, "k", INT(1)),
    row("frechet_from_stats-shapes", lambda: frechet_from_stats(np.zeros(3), np.eye(3), np.zeros(2), np.eye(2)),
        InputError, "mu2", r"same dimension"),
    row("frechet_from_stats-nan", lambda: frechet_from_stats(np.full(2, np.nan), np.eye(2), np.zeros(2), np.eye(2)),
        InputError, "mu1", r"pass finite statistics"),
    row("frechet_from_stats-complex", lambda: frechet_from_stats(np.zeros(2) + 1j, np.eye(2), np.zeros(2), np.eye(2)),
        InputError, "mu1", r"real-valued"),
    row("frechet_from_stats-not-psd", lambda: frechet_from_stats(np.zeros(2), -np.eye(2), np.zeros(2), np.eye(2)),
        InputError, "sigma1", r"sigma1 has a negative eigenvalue -1; a covariance is positive semi-definite"),
    row("frechet_distance-eps", lambda: frechet_distance(X, X, eps=-1), InputError, "eps", NUM),
    row("class_frechet-eps", lambda: class_frechet(X, y, X, y, eps="x"), InputError, "eps", NUM),
    row("probe-train-not-a-pair", lambda: linear_probe(X, (X, y), (X, y)), InputError, "train", r"an \(X, y\) pair"),
    row("probe-val-unseen-labels", lambda: linear_probe((X, y), (X, y + 3), (X, y)), InputError, "val y",
        r"training classes: \[0, 1\]"),
    row("probe-reference-other-D", lambda: probe(reference=X[:, :3]), InputError,
        "reference", r"same backbone"),
    row("probe-samples_per_epoch-offline", lambda: probe(samples_per_epoch=10), InputError,
        "samples_per_epoch", r"only for an online source"),
    row("probe-return_model=1", lambda: probe(return_model=1), InputError, "return_model", BOOL),
    row("probe-device", lambda: probe(device="gpu"), InputError, "device", r"use 'cpu'"),

    # --- featvae.experiment (08_experiment) ---------------------------------------------------------------------------
    row("check_study_args-limit", lambda: check_study_args(limit=0), InputError, "limit", r"or None for every record"),
    row("check_study_args-image_size", lambda: check_study_args(image_size=0), InputError, "image_size", INT(14)),
    row("check_study_args-no-seeds", lambda: check_study_args(seeds=()), InputError, "seeds", r"give at least one"),
    row("study_units-seed", lambda: study_units(["identity"], seeds=(-1,)), InputError, "seed", INT(0)),
    row("StudyData-other-D", lambda: StudyData((X, y), (X[:, :3], y), (X, y)), InputError, "val", r"same backbone"),
    row("StudyData.from_embeddings-missing-split", lambda: StudyData.from_embeddings({"train": Embeddings(X, y)}),
        InputError, "split", r"needs train, val and test"),
    row("release_metrics-not-a-release", lambda: release_metrics(X, study_data()), InputError, "train", r"\(X, y\) pair"),
    row("release_metrics-seed", lambda: release_metrics((X, y), study_data(), seed=-1), InputError, "seed", INT(0)),
    row("compute_unit-not-a-Unit", lambda: compute_unit("identity", study_data()), InputError, "unit", r"Unit"),
    row("compute_unit-seed", lambda: compute_unit(Unit(parse_spec("identity"), -1), study_data()), InputError, "seed", INT(0)),
    row("run_study-probe_params-unknown", lambda: run_study("toy", "none", methods=("identity",), seeds=(0,),
                                                           data=study_data(), probe_params=dict(epochs=3), out=TMP / "s1"),
        InputError, "epochs", r"linear_probe takes|max_epochs"),
    row("run_study-cache=1", lambda: run_study("toy", "none", methods=("identity",), seeds=(0,), data=study_data(),
                                               cache=1, probe_params=dict(max_epochs=1), out=TMP / "s2"),
        InputError, "cache", BOOL),
    row("run_study-out-is-a-file", lambda: run_study("toy", "none", methods=("identity",), seeds=(0,), data=study_data(),
                                                     out=FILE), InputError, "out", r"at a folder"),
    row("study_summary-not-a-frame", lambda: study_summary(X), InputError, "DataFrame", r"run_study's"),
    row("study_table-empty", lambda: study_table(pd.DataFrame(columns=COLUMNS)), InputError, "frame", r"empty"),
    row("study_table-unknown-metric", lambda: study_table(study_frame(), metrics=("aucc",)), InputError, "aucc",
        r"metrics"),
    row("study_table-noise-str", lambda: study_table(study_frame(), noise="x"), InputError, "noise", r"True, False or"),
    row("study_plots-not-a-frame", lambda: study_plots({}), InputError, "DataFrame", r"run_study's"),
    row("study_figure-not-a-frame", lambda: study_figure(None), InputError, "DataFrame", r"run_study's"),
    row("study_markdown-not-a-frame", lambda: study_markdown(X), InputError, "DataFrame", r"run_study's"),
    row("write_report-not-a-frame", lambda: write_report(X, TMP / "r"), InputError, "DataFrame", r"run_study's"),
    row("write_report-out-is-a-file", lambda: write_report(study_frame(), FILE), InputError, "out_dir", r"at a folder"),

    # --- featvae.explore (09_explore) ---------------------------------------------------------------------------------
    row("release_sets-unknown", lambda: release_sets(["nope"], X, y), InputError, "nope", r"methods: identity"),
    row("nearest_real_distance-other-D", lambda: nearest_real_distance(X, X[:, :3]), InputError, "R", r"same backbone"),
    row("fit_umap-n_neighbors", lambda: fit_umap(X, n_neighbors="x"), InputError, "n_neighbors", INT(2)),
    row("project-X-1d", lambda: project(None, X[:, 0]), InputError, "X", r"2-D"),
    row("UmapExplorer-real", lambda: UmapExplorer(X), InputError, "real", r"\(X, y\) pair"),
    row("umap_figure-real", lambda: umap_figure(5), InputError, "real", r"\(X, y\) pair"),
    row("umap_explorer-real", lambda: umap_explorer(5), InputError, "real", r"\(X, y\) pair"),
    row("kanon_grid-ks", lambda: kanon_grid((X, y), (X, y), (X, y), ks=(1,)), InputError, "ks", INT(2)),
    row("class_projection-k", lambda: class_projection(grid(), 5), InputError, "k=5", r"computed: \[\(2, False\)\]"),
    row("class_projection-class", lambda: class_projection(grid(), 2, cls="cat"), InputError, "cat", r"known: \['0', '1'\]"),
    row("kanon_figure-k", lambda: kanon_figure(grid(), 7), InputError, "k=7", r"computed:"),
    row("kanon_tradeoff-k", lambda: kanon_tradeoff(grid(), k=7), InputError, "k=7", r"computed:"),

    # --- featvae.cli helpers (10_cli) -----------------------------------------------------------------------------------
    row("summarize_embeddings-not-a-dict", lambda: summarize_embeddings(X), InputError, "embs", r"split name"),
]


@pytest.mark.parametrize("fn, exc, arg, fix", CASES)
def test_refused(fn, exc, arg, fix):
    with pytest.raises(FeatvaeError) as e: fn()
    msg = str(e.value)
    assert isinstance(e.value, exc), f"{type(e.value).__name__} instead of {exc.__name__}: {msg}"
    assert arg in msg, f"the message does not name {arg!r}: {msg}"
    assert re.search(fix, msg, re.IGNORECASE), f"the message does not state the fix /{fix}/: {msg}"
    assert "\n" not in msg, f"not one line: {msg!r}"


# ---------------------------------------------------------------------------------------------------------------
# what is computed instead of refused

def test_ksame_on_huge_values_groups_like_on_ordinary_ones():
    "k-Same is scale-free: values around 1e19 (whose squared norms overflow float32) give the groups of the same data at scale 1."
    Z = rng.normal(size=(40, 64)).astype(np.float32)
    expect = ksame_clusters(Z, k=4, show_progress=False)
    for f in (1e19, 1e-30):
        np.testing.assert_array_equal(ksame_clusters(Z * np.float32(f), k=4, show_progress=False), expect)
    Xn, _ = KSame(k=4).fit_resample(Z * np.float32(1e19))
    assert np.isfinite(Xn).all() and min_group_size(Xn) >= 4


def test_prdc_of_a_collapsed_release_is_measured():
    "The choice documented in featvae.fidelity: a degenerate *real* set is refused, a release of > k copies per record has recall 0."
    Xr = rng.normal(size=(60, 4)).astype(np.float32)
    m = prdc(Xr, np.repeat(Xr[:10], 6, axis=0), k=5, device="cpu")
    assert m["recall"] == 0.0 and m["precision"] == 1.0



# ---------------------------------------------------------------------------------------------------------------
# the command line: exit status 2, one line `featvae: error: ...` on stderr, no traceback

ARGPARSE = ("featvae.cli (10_cli): argparse prints its usage block and then '{prog}: error: ...' (several lines, "
            "and not 'featvae: error:'), exiting through SystemExit(2). Fix: a featvae ArgumentParser subclass whose "
            "error(message) prints one line 'featvae: error: {{message}} (see featvae [COMMAND] --help)' and exits 2, "
            "used for the parser and every sub-parser (add_subparsers(parser_class=...))")
RUN = ["--out", OUT, "--cache-dir", CACHE]              # `featvae run` never writes to the user's own folders


def cli(id, argv, arg, fix, env=None, xfail=None):
    marks = [pytest.mark.xfail(strict=True, reason=xfail)] if xfail else []
    return pytest.param(argv, env or {}, arg, fix, id=id, marks=marks)


CLI_CASES = [
    cli("datasets-unknown-option", ["datasets", "--bogus"], "--bogus", r"unrecognized"),
    cli("backbones-extra-argument", ["backbones", "extra"], "extra", r"unrecognized"),
    cli("methods-unknown-option", ["methods", "--x"], "--x", r"unrecognized"),
    cli("no-command", [], "COMMAND", r"required"),
    cli("unknown-command", ["nope"], "nope", r"choose from"),
    cli("datasets-FEATVAE_CACHE-file", ["datasets"], "FEATVAE_CACHE", r"point FEATVAE_CACHE at a folder",
        env=dict(FEATVAE_CACHE=str(FILE))),
    cli("backbones-FEATVAE_CACHE-file", ["backbones"], "FEATVAE_CACHE", r"point FEATVAE_CACHE at a folder",
        env=dict(FEATVAE_CACHE=str(FILE), HF_HUB_OFFLINE="1")),
    cli("extract-unknown-dataset", ["extract", "--dataset", "nope", "--out", OUT], "nope", r"Valid names"),
    cli("extract-unknown-backbone", ["extract", "--dataset", "digits", "--backbone", "nope", "--out", OUT], "nope",
        r"choose one of"),
    cli("extract-limit=0", ["extract", "--limit", "0", "--out", OUT], "--limit", r"positive integer"),
    cli("extract-limit=-1", ["extract", "--limit", "-1", "--out", OUT], "--limit", r"positive integer"),
    cli("extract-limit=x", ["extract", "--limit", "x", "--out", OUT], "--limit", r"int"),
    cli("extract-limit<classes", ["extract", "--dataset", "digits", "--limit", "5", "--out", OUT], "limit",
        r"use limit ≥ 10"),
    cli("extract-image-size=0", ["extract", "--image-size", "0", "--out", OUT], "--image-size", r"at least 14"),
    cli("extract-image-size=15", ["extract", "--dataset", "digits", "--limit", "20", "--image-size", "15", "--out", OUT],
        "image_size", r"multiple of the patch size 14"),
    cli("extract-seed=-1", ["extract", "--dataset", "digits", "--seed", "-1", "--out", OUT], "seed", INT(0)),
    cli("extract-unknown-split", ["extract", "--splits", "training", "--out", OUT], "--splits", r"choose from"),
    cli("extract-out-is-a-file", ["extract", "--dataset", "digits", "--limit", "20", "--image-size", "28", "--out", str(FILE)],
        "--out", r"at a folder"),
    cli("extract-FEATVAE_CACHE-file", ["extract", "--dataset", "digits", "--limit", "20", "--out", OUT], "FEATVAE_CACHE",
        r"point FEATVAE_CACHE at a folder", env=dict(FEATVAE_CACHE=str(FILE))),
    cli("run-unknown-dataset", ["run", "--dataset", "nope", *RUN], "nope", r"Valid names"),
    cli("run-unknown-method", ["run", "--methods", "nope", *RUN], "nope", r"methods: identity"),
    cli("run-spec-value", ["run", "--methods", "ksame:k=abc", *RUN], "k", INT(2)),
    cli("run-spec-grid-value", ["run", "--methods", "ksame:k=2|x", *RUN], "k", INT(2)),
    cli("run-spec-parameter", ["run", "--methods", "ksame:kk=3", *RUN], "kk", r"it takes k"),
    cli("run-spec-seed", ["run", "--methods", "ksame:seed=3", *RUN], "seed", r"set per run"),
    cli("run-spec-preset", ["run", "--methods", "ksame:preset=foo", *RUN], "preset", r"one of 'paper'"),
    cli("run-limit=0", ["run", "--limit", "0", *RUN], "--limit", r"positive integer or 'all'"),
    cli("run-limit=-1", ["run", "--limit", "-1", *RUN], "--limit", r"positive integer or 'all'"),
    cli("run-limit=x", ["run", "--limit", "x", *RUN], "--limit", r"positive integer or 'all'"),
    cli("run-image-size=0", ["run", "--image-size", "0", *RUN], "image_size", INT(14)),
    cli("run-seeds=-1", ["run", "--seeds", "-1", *RUN], "seeds", INT(0)),
    cli("run-seeds=x", ["run", "--seeds", "x", *RUN], "--seeds", r"int"),
    cli("run-sigmas=nan", ["run", "--sigmas", "nan", *RUN], "sigmas", NUM),
    cli("run-sigmas=-1", ["run", "--sigmas", "-1", *RUN], "sigmas", NUM),
    cli("run-cvae-max-epochs=0", ["run", "--cvae-max-epochs", "0", *RUN], "max_epochs", INT(1)),
    cli("run-probe-max-epochs=0", ["run", "--probe-max-epochs", "0", "--dataset", "nope", *RUN], "max_epochs", INT(1)),
    cli("run-n-boot=-1", ["run", "--n-boot", "-1", "--dataset", "nope", *RUN], "n_boot", INT(0)),
    cli("run-threads=-1", ["run", "--threads", "-1", "--dataset", "nope", *RUN], "threads", INT(1)),
    cli("run-device", ["run", "--device", "gpu9", *RUN], "device", r"use 'cpu'"),
    cli("run-out-is-a-file", ["run", "--out", str(FILE), "--cache-dir", CACHE], "--out", r"point --out at a folder"),
    cli("run-cache-dir-is-a-file", ["run", "--out", OUT, "--cache-dir", str(FILE)], "--cache-dir",
        r"point --cache-dir at a folder"),
    cli("run-FEATVAE_CACHE-file", ["run", "--out", OUT], "FEATVAE_CACHE", r"point FEATVAE_CACHE at a folder",
        env=dict(FEATVAE_CACHE=str(FILE))),
    cli("run-epsilons=0", ["run", "--epsilons", "0", *RUN], "--epsilons", r"numbers > 0 or 'inf'"),
    cli("run-epsilons=abc", ["run", "--epsilons", "abc", *RUN], "--epsilons", r"numbers > 0 or 'inf'"),
    cli("release-no-out", ["release"], "--out", r"required"),
    cli("release-mia>1", ["release", "--out", str(TMP / "rel-cli"), "--max-mia-auc", "2"], "max_mia_auc", r"≤ 1"),
]


def _main(argv, env):
    "Exit status of `featvae ARGV` run in this process."
    with modified_env(**{"FEATVAE_PROGRESS": "0", "FEATVAE_CACHE": HOME_CACHE, **env}):
        try: return main(argv)
        except SystemExit as e: return e.code


def _one_error_line(rc, err, arg, fix):
    assert rc == 2, f"exit status {rc}, stderr: {err}"
    assert "Traceback" not in err, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, f"{len(lines)} lines on stderr: {err}"
    assert lines[0].startswith("featvae: error: "), lines[0]
    assert arg in lines[0], f"the message does not name {arg!r}: {lines[0]}"
    assert re.search(fix, lines[0], re.IGNORECASE), f"the message does not state the fix /{fix}/: {lines[0]}"


@pytest.mark.parametrize("argv, env, arg, fix", CLI_CASES)
def test_cli_refuses(argv, env, arg, fix, capsys):
    rc = _main(argv, env)
    _one_error_line(rc, capsys.readouterr().err, arg, fix)


FEATVAE = shutil.which("featvae") or str(Path(sys.executable).with_name("featvae"))

@pytest.mark.parametrize("argv, arg, fix", [
    pytest.param(["extract", "--limit", "0", "--out", OUT], "--limit", r"positive integer", id="extract-limit=0"),
    pytest.param(["run", "--methods", "ksame:k=abc", *RUN], "k", INT(2), id="run-spec-value"),
])
def test_console_script_refuses_without_traceback(argv, arg, fix):
    "The installed console script, in its own process, as a user runs it."
    r = subprocess.run([FEATVAE, *argv], capture_output=True, text=True, timeout=300,
                       env=dict(os.environ, FEATVAE_PROGRESS="0", FEATVAE_CACHE=HOME_CACHE, OMP_NUM_THREADS="1"))
    _one_error_line(r.returncode, r.stderr, arg, fix)
