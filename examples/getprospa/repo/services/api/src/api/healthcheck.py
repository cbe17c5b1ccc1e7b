"""The image's HEALTHCHECK: GET the liveness path on localhost (no curl in the image)."""

from __future__ import annotations

import os
import sys
import urllib.request

from .definition import DEFINITION


def main() -> int:
    port = os.environ.get("PORT", str(DEFINITION.port))
    url = f"http://127.0.0.1:{port}{DEFINITION.liveness_path}"
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return 0 if response.status == 200 else 1
    except OSError:
        return 1


if __name__ == "__main__":
    sys.exit(main())
