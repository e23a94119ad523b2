"""PyTorch's learning rate after each epoch for pcamflow's scheduler test cases.

Reads {"cases": [{"name", "cfg", "base", "losses"}, ...]} as JSON on stdin (a loss may be the string
"NaN") and prints the same document with "torch_lr" added to every case, plus the torch and Python
versions. Run with Debian's interpreter (python3-torch 1.13), through the Go test that owns the cases:

    go test ./model -run TestSchedulersAgainstPyTorch -update-torch

which writes model/testdata/torch_schedulers.json; TestSchedulersMatchPyTorchReference compares
pcamflow's schedulers against that file in every test run, with or without torch installed.
"""
import json
import platform
import sys

import torch


def scheduler(name, cfg, opt):
    if name == "step":
        return torch.optim.lr_scheduler.StepLR(opt, step_size=cfg["step_size"], gamma=cfg["gamma"])
    if name == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=cfg["t_max"], eta_min=cfg.get("eta_min", 0.0))
    if name == "reduce_on_plateau":
        return torch.optim.lr_scheduler.ReduceLROnPlateau(
            opt, mode="min", factor=cfg["factor"], patience=cfg["patience"], threshold=cfg["threshold"],
            threshold_mode="rel", cooldown=cfg.get("cooldown", 0), min_lr=cfg.get("min_lr", 0.0))
    if name == "none":
        return None
    raise SystemExit("unknown scheduler %r" % name)


def lrs(case):
    cfg = case["cfg"]
    name = cfg["name"]
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=case["base"])
    s = scheduler(name, cfg, opt)
    out = []
    for loss in case["losses"]:
        loss = float(loss)  # "NaN" -> nan
        opt.step()
        if s is not None:
            if name == "reduce_on_plateau":
                s.step(loss)
            else:
                s.step()
        out.append(opt.param_groups[0]["lr"])
    return out


doc = json.load(sys.stdin)
for case in doc["cases"]:
    case["torch_lr"] = lrs(case)
doc["torch_version"] = torch.__version__
doc["python"] = "%s %s" % (sys.executable, platform.python_version())
json.dump(doc, sys.stdout, indent=1, sort_keys=True)
sys.stdout.write("\n")
