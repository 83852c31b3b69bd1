-- The Asherah metastore table for PostgreSQL (docs/compatibility.md#sql-metastore): `created` is a `timestamp`
-- (without time zone) holding UTC wall-clock time. The same text is `Dialect::Postgres.schema()`; a unit test keeps
-- the two identical.
CREATE TABLE IF NOT EXISTS encryption_key (
  id          VARCHAR(255) NOT NULL,
  created     TIMESTAMP    NOT NULL DEFAULT CURRENT_TIMESTAMP,
  key_record  TEXT         NOT NULL,
  PRIMARY KEY (id, created)
);
CREATE INDEX IF NOT EXISTS encryption_key_created ON encryption_key (created);
