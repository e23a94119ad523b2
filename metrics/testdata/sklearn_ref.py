"""Reference values from scikit-learn for metrics/sklearn_test.go.

Usage: python3 sklearn_ref.py IN.json OUT.json
IN holds {"cases": [{"name", "labels", "scores", "thresholds", "betas"}]}; OUT gets, per case, the
scikit-learn results that the Go test compares with. Infinite thresholds are dropped (JSON has no
Infinity) and the version-dependent first ROC threshold is left out.
"""
import json
import sys

import numpy as np
import sklearn
from sklearn.calibration import calibration_curve
from sklearn.metrics import (average_precision_score, confusion_matrix, fbeta_score, log_loss,
                             precision_recall_curve, roc_auc_score, roc_curve)


def best_fbeta(y, s, beta):
    """Best F-beta over all distinct thresholds, from scikit-learn's own PR curve.

    Returns (threshold, F): ties (within 1e-12) resolved to the highest threshold.
    """
    precision, recall, thresholds = precision_recall_curve(y, s)
    precision, recall = precision[:-1], recall[:-1]
    b2 = beta * beta
    denom = b2 * precision + recall
    f = np.where(denom > 0, (1 + b2) * precision * recall / np.where(denom > 0, denom, 1), 0.0)
    best = f.max()
    cand = thresholds[f >= best - 1e-12]
    return float(cand.max()), float(best)


def logloss(y, p):
    try:
        return float(log_loss(y, p, eps=1e-15, labels=[0, 1]))
    except TypeError:  # scikit-learn >= 1.5 removed eps: clip by hand
        return float(log_loss(y, np.clip(p, 1e-15, 1 - 1e-15), labels=[0, 1]))


def case_result(c):
    y = np.asarray(c["labels"], dtype=np.int64)
    s = np.asarray(c["scores"], dtype=np.float64)
    fpr, tpr, roc_thr = roc_curve(y, s, drop_intermediate=False)
    precision, recall, pr_thr = precision_recall_curve(y, s)
    out = {
        "roc_auc": float(roc_auc_score(y, s)),
        "average_precision": float(average_precision_score(y, s)),
        "fpr": fpr.tolist(), "tpr": tpr.tolist(), "roc_thresholds_tail": roc_thr[1:].tolist(),
        "precision": precision.tolist(), "recall": recall.tolist(), "pr_thresholds": pr_thr.tolist(),
        "at": [], "best": [],
    }
    if s.min() >= 0 and s.max() <= 1:
        out["log_loss"] = logloss(y, s)
        prob_true, prob_pred = calibration_curve(y, s, n_bins=10, strategy="uniform")
        out["calibration_frac_pos"] = prob_true.tolist()
        out["calibration_mean_prob"] = prob_pred.tolist()
    for t in c["thresholds"]:
        pred = (s >= t).astype(np.int64)
        tn, fp, fn, tp = confusion_matrix(y, pred, labels=[0, 1]).ravel()
        fb = [float(fbeta_score(y, pred, beta=b, zero_division=0)) for b in c["betas"]]
        out["at"].append({"threshold": t, "tp": int(tp), "fp": int(fp), "tn": int(tn), "fn": int(fn),
                          "fbeta": fb})
    for b in c["betas"]:
        thr, f = best_fbeta(y, s, b)
        out["best"].append({"beta": b, "threshold": thr, "fbeta": f})
    return out


def main():
    with open(sys.argv[1]) as f:
        cases = json.load(f)["cases"]
    result = {"sklearn_version": sklearn.__version__,
              "cases": {c["name"]: case_result(c) for c in cases}}
    with open(sys.argv[2], "w") as f:
        json.dump(result, f)


if __name__ == "__main__":
    main()
