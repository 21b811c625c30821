"""Prints the lowbit.quant_report JSON of an MLIR file (or stdin) as
sorted `key: value` lines, one per top-level scalar and per layer, and
checks what must hold for any report."""
import json
import re
import sys

text = open(sys.argv[1]).read() if len(sys.argv) > 1 else sys.stdin.read()
m = re.search(r'lowbit\.quant_report = "((?:[^"\\]|\\.)*)"', text)
if not m:
    sys.exit("no lowbit.quant_report in the input")
# MLIR escapes quotes and non-printables as \XX (hex) and \\ as \\.
raw = re.sub(r"\\([0-9A-Fa-f]{2})", lambda e: chr(int(e.group(1), 16)),
             m.group(1)).replace("\\\\", "\\")
report = json.loads(raw)
for key in sorted(report):
    if not isinstance(report[key], (list, dict)):
        print(f"{key}: {report[key]}")
for layer in report["layers"]:
    act = layer["activations"]
    print(f"layer {layer['name']} {layer['format']} bits/weight "
          f"{layer['bits_per_weight']:g} activations {act['format']}"
          + (f" zp {act['zero_point']}" if "zero_point" in act else ""))
    cands = {c["format"]: c for c in layer.get("candidates", [])}
    if "int4" in cands and "int8" in cands:
        assert cands["int4"]["sensitivity"] > cands["int8"]["sensitivity"] > 0
total = sum(l["bits"] for l in report["layers"])
assert abs(report["average_weight_bits"] - total / report["layer_weights"]) < 1e-9
