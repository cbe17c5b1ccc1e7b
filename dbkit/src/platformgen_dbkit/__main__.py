import sys

from platformgen_dbkit.cli import main

sys.exit(main())
