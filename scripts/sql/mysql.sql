-- The Asherah metastore table for MySQL / MariaDB (docs/compatibility.md#sql-metastore): Go's documented schema,
-- idempotent. Run the session in UTC: `created` holds UTC wall-clock time (MySQL TIMESTAMP: 1970-01-01 00:00:01 to
-- 2038-01-19 03:14:07). The same text is `Dialect::MySql.schema()`; a unit test keeps the two identical.
CREATE TABLE IF NOT EXISTS encryption_key (
  id          VARCHAR(255) NOT NULL,
  created     TIMESTAMP    NOT NULL DEFAULT CURRENT_TIMESTAMP,
  key_record  TEXT         NOT NULL,
  PRIMARY KEY (id, created),
  INDEX (created)
);
