import sys

from wan26.cli import main

sys.exit(main())
