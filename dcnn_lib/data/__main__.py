"""``python -m dcnn_lib.data``: find (or, online, fetch) Fashion-MNIST and print where it is."""
import sys

from .fashion import DatasetNotFoundError, fashion_mnist_root

try:
    print(f"Fashion-MNIST: {fashion_mnist_root()}")
except DatasetNotFoundError as err:
    print(err, file=sys.stderr)
    sys.exit(1)
