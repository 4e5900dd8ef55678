"""``python -m dcnn_lib.data``: find (or, online, fetch) Fashion-MNIST, check it, print where it is.

Exits with status 1 when no good copy is on this machine (offline): the message lists where
it looked, the files it rejected and why, and how to get the data."""
import sys

from .fashion import FILES, DatasetNotFoundError, fashion_mnist_root

try:
    root = fashion_mnist_root()
except DatasetNotFoundError as err:
    print(err, file=sys.stderr)
    sys.exit(1)
print(f"Fashion-MNIST: {root} ({len(FILES)} files, size and MD5 of the published release checked)")
