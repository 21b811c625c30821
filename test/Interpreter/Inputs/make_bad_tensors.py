# SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
"""Writes tensors whose headers declare more data than they hold (for
test/Interpreter/bad-files.test): overflow.npy (2^58 x 1 x 8 x 8 f32, the
byte count overflows 64 bits), short.npy (2^40 x 1 x 8 x 8, 256 bytes of
data) and huge.pb (a TensorProto of 2^40 x 1 x 8 x 8 with 16 bytes)."""
import os
import struct
import sys


def npy(path, shape):
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': (%s), }" % (
        ", ".join(str(d) for d in shape))
    header += " " * (127 - 10 - len(header)) + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) +
                header.encode() + b"\0" * 256)


def main():
    out = sys.argv[1]
    npy(os.path.join(out, "overflow.npy"), (1 << 58, 1, 8, 8))
    npy(os.path.join(out, "short.npy"), (1 << 40, 1, 8, 8))
    from onnx import TensorProto
    t = TensorProto()
    t.name = "image"
    t.data_type = TensorProto.FLOAT
    t.dims.extend([1 << 40, 1, 8, 8])
    t.raw_data = b"\0" * 16
    with open(os.path.join(out, "huge.pb"), "wb") as f:
        f.write(t.SerializeToString())
    # Typed values instead of raw bytes (found by lowbit-tensor-fuzzer: the
    # 64 GB buffer was allocated before the values were counted).
    t = TensorProto()
    t.name = "image"
    t.data_type = TensorProto.UINT8
    t.dims.extend([47, 64, 3, 3, 64, 64, 3, 3, 64])
    t.int32_data.extend([1, 2, 3])
    with open(os.path.join(out, "huge_typed.pb"), "wb") as f:
        f.write(t.SerializeToString())


if __name__ == "__main__":
    main()
