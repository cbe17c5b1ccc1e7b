import sys

from dbkit.cli import main

sys.exit(main())
