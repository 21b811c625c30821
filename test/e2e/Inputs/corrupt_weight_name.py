# SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
"""Sets the length prefix of the FlatBuffers string NAME in a package to
~2 GiB: a weight name the runtime never reads, so only a verifier that
follows every field (lowbit inspect) can notice (test/e2e/inspect-corrupt.test)."""
import struct, sys
d = bytearray(open(sys.argv[1], 'rb').read())
i = d.find(sys.argv[2].encode())
assert i > 4, 'name not found'
d[i - 4:i] = struct.pack('<I', 0x7fffff00)
open(sys.argv[1], 'wb').write(d)
