"""Classification models; importing this package registers them."""
from . import lenet  # noqa: F401
