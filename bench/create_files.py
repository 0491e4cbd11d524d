"""The kernel floor of a pull into a directory: create COUNT small files in one directory.

Usage: python3 bench/create_files.py COUNT DIR
Creates DIR/player/1.yaml .. COUNT.yaml (one directory, as a pull of players writes them),
each a 180-byte body (the size of a pulled player), with the bare system calls a writer
cannot do without: openat(O_CREAT|O_EXCL), write, close. Prints the loop's wall seconds
(interpreter start-up excluded). Python adds about a microsecond a file over the system
calls themselves, so the figure is an upper bound of the floor, not far above it.
"""
import os
import sys
import time

count, root = int(sys.argv[1]), sys.argv[2]
folder = os.path.join(root, "player")
os.makedirs(folder)
body = (b"x" * 179) + b"\n"
flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC
start = time.perf_counter()
for number in range(1, count + 1):
    fd = os.open(f"{folder}/{number}.yaml", flags, 0o644)
    os.write(fd, body)
    os.close(fd)
print(f"{time.perf_counter() - start:.3f}")
