#!/usr/bin/env python3
"""Writes the no-op benchmark's pipelines: a fan-out of N trivial command nodes into one join, as a
pcamflow pipeline (fanout.hcl) and the equivalent Snakefile (Snakefile.fanout). Usage: gen.py DIR N"""
import os
import sys

out, n = sys.argv[1], int(sys.argv[2])
os.makedirs(out, exist_ok=True)
with open(os.path.join(out, "fanout.hcl"), "w") as f:
    f.write('pipeline "fanout" {\n  seed = 1\n}\n\n')
    for i in range(n):
        f.write(f'command "n{i}" {{\n  run     = ["sh", "-c", "echo {i} > out/{i}.txt"]\n'
                f'  outputs = ["out/{i}.txt"]\n}}\n\n')
    refs = ", ".join(f"command.n{i}.outputs[0]" for i in range(n))
    f.write(f'command "join" {{\n  run     = ["sh", "-c", "ls out | wc -l > all.txt"]\n'
            f'  inputs  = [{refs}]\n  outputs = ["all.txt"]\n}}\n')
with open(os.path.join(out, "Snakefile.fanout"), "w") as f:
    f.write(f"""N = {n}

rule all:
    input: "all.txt"

rule join:
    input: expand("out/{{i}}.txt", i=range(N))
    output: "all.txt"
    shell: "ls out | wc -l > {{output}}"

rule node:
    output: "out/{{i}}.txt"
    shell: "echo {{wildcards.i}} > {{output}}"
""")
