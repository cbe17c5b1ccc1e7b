"""Names the kit's commands share with the rendered Terraform and with each other.

The heartbeat table lives in the migrated schema on the source. `lag` and `cutover` write
it on the source and read it on the target; DMS replicates it (its table mapping includes
it) but DMS validation, `verify` and `preflight` leave it out: its row changes every second.
"""

from __future__ import annotations

HEARTBEAT_TABLE = "dbkit_heartbeat"
"""(id TINYINT UNSIGNED PRIMARY KEY, seq BIGINT UNSIGNED NOT NULL, written_at DATETIME(6) NOT NULL)"""
