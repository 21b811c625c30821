"""Writes calibration sets for the quantization pass tests:
calib.npz (x: 12 samples x 8, normal, seed 0) and three.npz (3 samples)."""
import sys

import numpy as np

out = sys.argv[1]
rng = np.random.default_rng(0)
x = rng.standard_normal((12, 8)).astype(np.float32)
np.savez(f"{out}/calib.npz", x=x)
np.savez(f"{out}/three.npz", x=x[:3])
np.savez(f"{out}/wrong.npz", image=x, mask=x)
