"""Is the synthetic PCAM label learnable, and not from colour? (numbers quoted in docs/data.md)

usage: check.py DIR SPLIT [N=8000]
Reads DIR/camelyonpatch_level_2_split_SPLIT_{x,y}.h5 with h5py and prints held-out ROC-AUC
(5-fold stratified cross-validation, scikit-learn) of:
  1. logistic regression on the per-patch mean R, G, B            (should be near 0.5)
  2. logistic regression on per-patch mean and std of R, G, B       (global colour statistics)
  3. gradient boosting on simple structure features of the centre 32x32 (dark-blob size and count)
"""
import sys

import h5py
import numpy as np
from scipy import ndimage
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

d, split = sys.argv[1], sys.argv[2]
n = int(sys.argv[3]) if len(sys.argv) > 3 else 8000
base = f"{d}/camelyonpatch_level_2_split_{split}"
x = h5py.File(base + "_x.h5", "r")["x"][:n].astype(np.float32) / 255
y = h5py.File(base + "_y.h5", "r")["y"][:n].ravel()
mean = x.mean(axis=(1, 2))
std = x.std(axis=(1, 2))


def centre_features(p):
    c = p[32:64, 32:64]
    dark = 1 - c.mean(axis=2)
    thr = np.percentile(1 - p.mean(axis=2), 75)
    lab, n = ndimage.label(dark > max(thr, 0.35))
    sizes = np.bincount(lab.ravel())[1:] if n else np.zeros(1)
    return [n, sizes.mean(), sizes.max(), (dark > 0.35).mean(), dark.std()]


cf = np.array([centre_features(p) for p in x])
auc = lambda m, f: cross_val_score(m, f, y, cv=5, scoring="roc_auc").mean()
lr = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
print(f"n={len(y)} positives={y.mean():.3f}")
print(f"mean-RGB logistic regression ROC-AUC      {auc(lr, mean):.3f}")
print(f"mean+std RGB logistic regression ROC-AUC  {auc(lr, np.hstack([mean, std])):.3f}")
print(f"centre-structure boosting ROC-AUC         {auc(HistGradientBoostingClassifier(), cf):.3f}")
