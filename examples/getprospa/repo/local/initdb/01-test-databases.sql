-- Run once, by the MySQL image's entrypoint, on an empty data directory (compose.yaml mounts
-- this folder at /docker-entrypoint-initdb.d). database/'s tests (dbkit) compare a source
-- and a target: two databases on this one server, named by DBKIT_TEST_SOURCE_DSN and
-- DBKIT_TEST_TARGET_DSN (local/compose.sh sets both for make test).
CREATE DATABASE IF NOT EXISTS dbkit_source CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE DATABASE IF NOT EXISTS dbkit_target CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
