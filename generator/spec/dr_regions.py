"""The default DR region of each AWS region: where backups go without a backup account.

Without `backup.account` (and without `backup.region`), each environment's database
snapshots are copied to another region of its own account: the pair of the project's
region below. Pairs stay in the same geography (data residency) where AWS has a second
region there. Some partners are opt-in regions, which an account must enable before its
first apply (`aws account enable-region`); docs/spec.md lists the table and says so.
A region without a pair needs `backup.region` (or `backup.account`): validation says so.
"""

from __future__ import annotations

DR_REGION_PAIRS: dict[str, str] = {
    "us-east-1": "us-west-2",
    "us-east-2": "us-west-2",
    "us-west-1": "us-west-2",
    "us-west-2": "us-east-1",
    "ca-central-1": "ca-west-1",
    "eu-west-1": "eu-central-1",
    "eu-west-2": "eu-west-1",
    "eu-west-3": "eu-central-1",
    "eu-central-1": "eu-west-1",
    "eu-north-1": "eu-central-1",
    "ap-northeast-1": "ap-northeast-3",
    "ap-northeast-3": "ap-northeast-1",
    "ap-south-1": "ap-south-2",
    "ap-southeast-2": "ap-southeast-4",
    "ap-southeast-4": "ap-southeast-2",
}

# Regions an account must enable before use (AWS: "opt-in regions").
OPT_IN_REGIONS = frozenset({"ca-west-1", "ap-south-2", "ap-southeast-4"})


def dr_region_of(region: str) -> str | None:
    return DR_REGION_PAIRS.get(region)
