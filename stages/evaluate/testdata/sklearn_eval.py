"""Reference check of an evaluate node with scikit-learn, NumPy and h5py.

Usage: sklearn_eval.py DATA_DIR REPORT_JSON PREDICTIONS_CSV OUT_JSON

Recomputes from the raw HDF5 pixels and the node's probabilities: every per-patch feature
(brightness, tissue fraction, haematoxylin and eosin density by Ruifrok-Johnston deconvolution),
the tertile slices, every metric of the model overall and per slice, and the colour-statistics
logistic regression baseline (StandardScaler + LogisticRegression(C=1) on evenly spaced train
patches). Writes the list of mismatches (empty when everything agrees) to OUT_JSON.
"""
import csv
import json
import sys

import h5py
import numpy as np
import sklearn
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import (accuracy_score, average_precision_score, brier_score_loss, confusion_matrix,
                             fbeta_score, precision_score, recall_score, roc_auc_score)
from sklearn.preprocessing import StandardScaler

TOL = 1e-9
data_dir, report_path, pred_path, out_path = sys.argv[1:5]
rep = json.load(open(report_path))
rows = list(csv.DictReader(open(pred_path)))
problems = []


def check(what, got, want, tol=TOL):
    if want is None or (isinstance(want, float) and np.isnan(want)):
        if got is not None:
            problems.append(f"{what}: got {got}, reference undefined")
        return
    if got is None or abs(got - want) > tol:
        problems.append(f"{what}: got {got}, reference {want}")


def split_x(split):
    with h5py.File(f"{data_dir}/camelyonpatch_level_2_split_{split}_x.h5", "r") as f:
        return f["x"][:]


def features(x):
    """Per-patch features, as documented in stages/evaluate/features.go."""
    px = x.reshape(len(x), -1, 3).astype(np.int64)
    r, g, b = px[..., 0], px[..., 1], px[..., 2]
    lum = (0.299 * r + 0.587 * g + 0.114 * b).mean(axis=1) / 255
    mx, mn = px.max(axis=2), px.min(axis=2)
    tissue = (mx >= 30) & (mn < 220) & ((mx - mn) * 100 >= 8 * mx)
    vec = np.array([[0.65, 0.70, 0.29], [0.07, 0.99, 0.11], [0.27, 0.57, 0.78]])
    vec = vec / np.linalg.norm(vec, axis=1, keepdims=True)
    od = -np.log10(np.maximum(px, 1) / 255.0)
    stains = od @ np.linalg.inv(vec)
    cnt = tissue.sum(axis=1)
    h = np.where(cnt > 0, (stains[..., 0] * tissue).sum(axis=1) / np.maximum(cnt, 1), 0)
    e = np.where(cnt > 0, (stains[..., 1] * tissue).sum(axis=1) / np.maximum(cnt, 1), 0)
    f = px / 255.0
    colour = np.concatenate([f.mean(axis=1), f.std(axis=1)], axis=1)
    return lum, tissue.mean(axis=1), h, e, colour


def metric_set(y, p, thr, beta, bins):
    pred = (p >= thr).astype(int)
    out = {}
    both = 0 < y.sum() < len(y)
    out["roc_auc"] = roc_auc_score(y, p) if both else None
    out["pr_auc"] = average_precision_score(y, p) if y.sum() > 0 else None
    out["f_beta"] = fbeta_score(y, pred, beta=beta, zero_division=0)
    out["precision"] = precision_score(y, pred, zero_division=0)
    out["recall"] = recall_score(y, pred, zero_division=0)
    out["specificity"] = recall_score(1 - y, 1 - pred, zero_division=0)
    out["accuracy"] = accuracy_score(y, pred)
    out["brier"] = brier_score_loss(y, p)
    # ECE: right-closed equal-width bins (k/bins, (k+1)/bins], 0 in the first bin.
    idx = np.clip(np.ceil(p * bins).astype(int) - 1, 0, bins - 1)
    ece = 0.0
    for k in range(bins):
        m = idx == k
        if m.any():
            ece += m.sum() * abs(y[m].mean() - p[m].mean())
    out["ece"] = ece / len(y)
    out["confusion"] = confusion_matrix(y, pred, labels=[0, 1]).ravel().tolist()  # tn, fp, fn, tp
    return out


def compare_set(what, got, conf, ref):
    for name, val in ref.items():
        if name == "confusion":
            tn, fp, fn, tp = val
            if conf is not None and [conf["TN"], conf["FP"], conf["FN"], conf["TP"]] != [tn, fp, fn, tp]:
                problems.append(f"{what} confusion {conf}, reference tn {tn} fp {fp} fn {fn} tp {tp}")
            continue
        check(f"{what} {name}", got[name]["value"], val)


x = split_x(rep["split"])
idx = np.array([int(r["index"]) for r in rows])
x = x[idx]
y = np.array([int(r["label"]) for r in rows])
p = np.array([float(r["probability"]) for r in rows])
lum, tis, h, e, colour = features(x)
for name, ref in [("brightness", lum), ("tissue", tis), ("haematoxylin", h), ("eosin", e)]:
    got = np.array([float(r[name]) for r in rows])
    if np.max(np.abs(got - ref)) > TOL:
        k = int(np.argmax(np.abs(got - ref)))
        problems.append(f"feature {name} of patch {idx[k]}: got {got[k]}, reference {ref[k]}")

thr, beta = rep["threshold"]["value"], rep["beta"]
bins = len(rep["calibration"])
compare_set("overall", rep["metrics"], rep["confusion"], metric_set(y, p, thr, beta, bins))

# Tertile slices from the reference features, then every slice's metrics.
members = {}
for fam, vals in [("brightness", lum), ("tissue", tis), ("haematoxylin", h), ("eosin", e)]:
    q1, q2 = np.quantile(vals, [1 / 3, 2 / 3])
    members[f"{fam}=low"] = vals <= q1
    members[f"{fam}=mid"] = (vals > q1) & (vals <= q2)
    members[f"{fam}=high"] = vals > q2
for col in rows[0]:
    if col.startswith("slice_") and col[6:] not in ("brightness", "tissue", "haematoxylin", "eosin"):
        fam = col[6:]
        for r_i, r in enumerate(rows):
            for name in filter(None, r[col].split("+")):
                members.setdefault(f"{fam}={name}", np.zeros(len(rows), bool))[r_i] = True
seen = set()
for s in rep["slices"]:
    seen.add(s["slice"])
    m = members.get(s["slice"])
    if m is None:
        problems.append(f"slice {s['slice']}: not in the reference")
        continue
    if s["count"] != int(m.sum()) or s["positives"] != int(y[m].sum()):
        problems.append(f"slice {s['slice']}: count {s['count']} positives {s['positives']}, reference {int(m.sum())} {int(y[m].sum())}")
        continue
    ref = metric_set(y[m], p[m], thr, beta, bins)
    conf = ref.pop("confusion")
    compare_set(f"slice {s['slice']}", s["metrics"], None, ref)
    if s["false_negatives"] != conf[2] or s["false_positives"] != conf[1]:
        problems.append(f"slice {s['slice']}: FN {s['false_negatives']} FP {s['false_positives']}, reference {conf[2]} {conf[1]}")
for name, m in members.items():
    if m.any() and name not in seen:
        problems.append(f"slice {name}: missing from the report")

# The colour baseline: fitted on evenly spaced train patches, exactly as the Go code samples them.
base = {b["name"]: b for b in rep["baselines"]}
if "colour_logistic" in base:
    xt = split_x("train")
    with h5py.File(f"{data_dir}/camelyonpatch_level_2_split_train_y.h5", "r") as f:
        yt = f["y"][:].reshape(-1)
    n, k = len(xt), base["colour_logistic"]["detail"]["fit_patches"]
    sample = [i * n // k for i in range(k)] if k < n else list(range(n))
    ct = features(xt[sample])[4]
    scaler = StandardScaler().fit(ct)
    lr = LogisticRegression(C=1.0, tol=1e-12, max_iter=10000, solver="newton-cg").fit(scaler.transform(ct), yt[sample])
    pb = lr.predict_proba(scaler.transform(colour))[:, 1]
    got = np.array([float(r["baseline_colour_logistic"]) for r in rows])
    if np.max(np.abs(got - pb)) > 1e-6:
        problems.append(f"colour baseline probabilities differ from scikit-learn by up to {np.max(np.abs(got - pb))}")
    compare_set("colour_logistic", base["colour_logistic"]["metrics"], None,
                {k: v for k, v in metric_set(y, got, 0.5, beta, bins).items() if k != "confusion"})
if "majority" in base:
    with h5py.File(f"{data_dir}/camelyonpatch_level_2_split_train_y.h5", "r") as f:
        prior = float(f["y"][:].mean())
    check("majority prior", base["majority"]["detail"]["train_prior"], prior)

json.dump({"sklearn_version": sklearn.__version__, "problems": problems}, open(out_path, "w"))
