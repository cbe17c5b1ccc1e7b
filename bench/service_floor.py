"""The floor of `make bench-service`: Flask + SQLAlchemy Core, one SELECT by primary key."""

import os

import sqlalchemy as sa
from flask import Flask, abort, jsonify

env = os.environ
engine = sa.create_engine(
    sa.URL.create(
        "mysql+pymysql",
        username=env["DATABASE_USERNAME"],
        password=env["DATABASE_PASSWORD"],
        host=env["DATABASE_HOST"],
        port=int(env["DATABASE_PORT"]),
        database=env["DATABASE_NAME"],
        query={"charset": "utf8mb4"},
    ),
    connect_args={"ssl_ca": env["DATABASE_TLS_CA_FILE"], "ssl_verify_identity": True},
    pool_size=5,
    max_overflow=2,
)
table = sa.Table("loan_applications", sa.MetaData(), autoload_with=engine)
by_id = sa.select(table).where(table.c.id == sa.bindparam("id"))
app = Flask(__name__)


@app.get("/api/v1/loan-applications/<resource_id>")
def get(resource_id: str) -> object:
    with engine.connect() as conn:
        row = conn.execute(by_id, {"id": resource_id}).mappings().first()
    if row is None:
        abort(404)
    return jsonify({k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in row.items()})


@app.get("/readyz")
def ready() -> object:
    return {"status": "ok"}
