"""Classification models; importing this package registers them."""
from . import lenet  # noqa: F401
from . import plain_cnn  # noqa: F401  (receptive-fields chapter)
from . import alexnet  # noqa: F401
from . import vgg, nin  # noqa: F401,E401
from . import resnet  # noqa: F401
from . import densenet, fractalnet, res2net  # noqa: F401,E401
from . import googlenet, inception_v2, inception_v3, inception_v4  # noqa: F401,E401
from . import polynet  # noqa: F401
