#!/usr/bin/env bash
# The sha256 of a folder's files: each file's sha256 and path, sorted, hashed. Paths in
# the digest are relative to the folder, so a copy anywhere else has the same digest.
set -euo pipefail
cd "$1"
find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum | sha256sum | cut -d' ' -f1
