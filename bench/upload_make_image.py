"""Writes a disk-like image for the upload benchmarks.

usage: upload_make_image.py OUT SIZE_BYTES

Per 2 MiB block, in a fixed rotation: two blocks of zeros (unallocated
space: half the image), one block of real system files (libraries, binaries,
documentation from /usr, concatenated in sorted order) and one block of
random bytes (already-compressed content such as packages and media).
Deterministic for a given machine's /usr.
"""
import os
import random
import sys

BLOCK = 2 << 20


def system_files():
    for root in ('/usr/lib/x86_64-linux-gnu', '/usr/share', '/usr/bin'):
        for d, dirs, files in os.walk(root):
            dirs.sort()
            for name in sorted(files):
                path = os.path.join(d, name)
                if os.path.islink(path) or not os.path.isfile(path):
                    continue
                try:
                    with open(path, 'rb') as f:
                        yield f.read()
                except OSError:
                    pass


def main():
    out, size = sys.argv[1], int(sys.argv[2])
    files, pool = system_files(), b''
    rnd = random.Random(7)
    with open(out, 'wb') as f:
        for b in range(size // BLOCK):
            kind = b % 4
            if kind < 2:
                f.write(b'\0' * BLOCK)
            elif kind == 2:
                while len(pool) < BLOCK:
                    pool += next(files)
                f.write(pool[:BLOCK])
                pool = pool[BLOCK:]
            else:
                f.write(rnd.randbytes(BLOCK))


if __name__ == '__main__':
    main()
