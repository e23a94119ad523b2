"""Reads scheduler cases (JSON on stdin) and prints PyTorch's learning rate after each epoch."""
import json
import sys

import torch

out = []
for case in json.load(sys.stdin):
    cfg, base = case["cfg"], case["base"]
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=base)
    name = cfg["name"]
    if name == "step":
        s = torch.optim.lr_scheduler.StepLR(opt, step_size=cfg["step_size"], gamma=cfg["gamma"])
    elif name == "cosine":
        s = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=cfg["t_max"], eta_min=cfg.get("eta_min", 0.0))
    elif name == "reduce_on_plateau":
        s = torch.optim.lr_scheduler.ReduceLROnPlateau(
            opt, mode="min", factor=cfg["factor"], patience=cfg["patience"], threshold=cfg["threshold"],
            threshold_mode="rel", cooldown=cfg.get("cooldown", 0), min_lr=cfg.get("min_lr", 0.0))
    else:
        s = None
    lrs = []
    for loss in case["losses"]:
        opt.step()
        if s is not None:
            if name == "reduce_on_plateau":
                s.step(loss)
            else:
                s.step()
        lrs.append(opt.param_groups[0]["lr"])
    out.append(lrs)
print(json.dumps(out))
