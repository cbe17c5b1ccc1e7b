"""A MariaDB 10.11 container image that stands in for the official MySQL image.

No registry is reachable here, so the generated compose.yaml's pinned `mysql` image cannot
be pulled. This image is made locally (debootstrap, as the service tests' bases are) and
speaks the official image's contract that compose.yaml and the generated `make test` rely
on: MYSQL_ROOT_PASSWORD (root from any host), MYSQL_DATABASE, MYSQL_USER/MYSQL_PASSWORD,
the *.sql files of /docker-entrypoint-initdb.d run once on an empty data directory, a
server that listens on TCP only once that is done, and `mysqladmin` for the healthcheck.
Point compose at it with MYSQL_IMAGE (compose.yaml's override).
"""

from __future__ import annotations

import fcntl
import hashlib
import shutil
import tempfile
from pathlib import Path

import pytest

from support.service_stack import image_exists, import_rootfs, run

PACKAGES = "mariadb-server,mariadb-client"

ENTRYPOINT = r"""#!/bin/sh
# The official MySQL image's environment contract, on Debian's MariaDB 10.11.
set -eu
: "${MYSQL_ROOT_PASSWORD:?MYSQL_ROOT_PASSWORD is required}"
DATADIR=/var/lib/mysql
mkdir -p /run/mysqld "$DATADIR"
chown mysql:mysql /run/mysqld "$DATADIR"
if [ ! -d "$DATADIR/mysql" ]; then
  mariadb-install-db --user=mysql --datadir="$DATADIR" --auth-root-authentication-method=normal \
    --skip-test-db >/dev/null
  mariadbd --user=mysql --datadir="$DATADIR" --skip-networking --socket=/run/mysqld/init.sock &
  pid=$!
  until mariadb-admin --socket=/run/mysqld/init.sock --user=root ping --silent 2>/dev/null; do sleep 0.3; done
  {
    echo "ALTER USER 'root'@'localhost' IDENTIFIED BY '$MYSQL_ROOT_PASSWORD';"
    echo "CREATE USER 'root'@'%' IDENTIFIED BY '$MYSQL_ROOT_PASSWORD';"
    echo "GRANT ALL PRIVILEGES ON *.* TO 'root'@'%' WITH GRANT OPTION;"
    if [ -n "${MYSQL_DATABASE:-}" ]; then
      echo "CREATE DATABASE IF NOT EXISTS \`$MYSQL_DATABASE\`;"
      if [ -n "${MYSQL_USER:-}" ]; then
        echo "CREATE USER '$MYSQL_USER'@'%' IDENTIFIED BY '${MYSQL_PASSWORD:-}';"
        echo "GRANT ALL PRIVILEGES ON \`$MYSQL_DATABASE\`.* TO '$MYSQL_USER'@'%';"
      fi
    fi
    for f in /docker-entrypoint-initdb.d/*.sql; do [ -f "$f" ] && cat "$f"; done
  } | mariadb --socket=/run/mysqld/init.sock --user=root
  mariadb-admin --socket=/run/mysqld/init.sock --user=root --password="$MYSQL_ROOT_PASSWORD" shutdown
  wait "$pid" || true
fi
exec mariadbd --user=mysql --datadir="$DATADIR" --bind-address=0.0.0.0 --port=3306 \
  --log-bin=binlog --server-id=1 --binlog-format=ROW
"""

KEY = hashlib.sha256((PACKAGES + ENTRYPOINT + "empty datadir").encode()).hexdigest()[:12]
IMAGE = f"localhost/platformgen-mariadb:{KEY}"


def mariadb_image() -> str:
    """Make the image once per machine (a lock serialises xdist workers); return its name."""
    lock = Path(tempfile.gettempdir()) / "platformgen-mariadb-image.lock"
    with lock.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        if image_exists(IMAGE):
            return IMAGE
        debootstrap = shutil.which("debootstrap") or shutil.which("debootstrap", path="/usr/sbin")
        if debootstrap is None:
            pytest.fail("debootstrap is missing: `make test` installs it", pytrace=False)
        root = Path(tempfile.mkdtemp(prefix="platformgen-mariadb-", dir="/var/tmp")) / "root"
        try:
            cmd = [debootstrap, "--variant=minbase", f"--include={PACKAGES}", "bookworm", str(root)]
            proc = run(cmd, timeout=900)
            assert proc.returncode == 0, (
                f"debootstrap failed:\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}"
            )
            for cache_dir in ("var/cache/apt/archives", "var/lib/apt/lists"):
                for item in (root / cache_dir).glob("*"):
                    if item.is_file():
                        item.unlink()
            # Debian's package initialises a data directory on install: the image must start
            # empty, so the entrypoint sets the passwords and runs the init scripts.
            datadir = root / "var/lib/mysql"
            shutil.rmtree(datadir)
            datadir.mkdir()
            entrypoint = root / "usr/local/bin/docker-entrypoint.sh"
            entrypoint.write_text(ENTRYPOINT)
            entrypoint.chmod(0o755)
            (root / "docker-entrypoint-initdb.d").mkdir(exist_ok=True)
            import_rootfs(
                root,
                IMAGE,
                changes=['ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]', "EXPOSE 3306"],
            )
        finally:
            shutil.rmtree(root.parent, ignore_errors=True)
    return IMAGE
