-- The Asherah metastore table for SQLite (docs/compatibility.md#sql-metastore): `created` holds Go's
-- mattn/go-sqlite3 text of a UTC time (`YYYY-MM-DD HH:MM:SS+00:00`). The same text is `Dialect::Sqlite.schema()`; a
-- unit test keeps the two identical.
CREATE TABLE IF NOT EXISTS encryption_key (
  id          VARCHAR(255) NOT NULL,
  created     TIMESTAMP    NOT NULL DEFAULT CURRENT_TIMESTAMP,
  key_record  TEXT         NOT NULL,
  PRIMARY KEY (id, created)
);
CREATE INDEX IF NOT EXISTS encryption_key_created ON encryption_key (created);
