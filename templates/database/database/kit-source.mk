# Where pip finds the platformgen-dbkit wheel (database/README.md, "Where the wheel comes
# from"): set one of these once, here, and commit it. Laptops, every CI system and the
# platform executor (which runs `make database-users-apply` after each apply) read this
# file; an environment variable of the same name wins.
#   DBKIT_INDEX_URL:  your team's package index (PEP 503 simple URL) serving the wheel and
#                     proxying PyPI for its dependencies
#   DBKIT_FIND_LINKS: a folder or page that lists the wheel (the dependencies come from PyPI)
# Whichever answers, only the files whose SHA-256 requirements.lock records install.
DBKIT_INDEX_URL ?=
DBKIT_FIND_LINKS ?=
