"""``python -m segmentation.serving.publish``: see :mod:`segmentation.serving.publish.cli`."""

import sys

from segmentation.serving.publish.cli import main

sys.exit(main())
