package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/godaddy/asherah/go/appencryption"
	"github.com/godaddy/asherah/go/appencryption/pkg/persistence"

	"github.com/go-sql-driver/mysql"
	_ "modernc.org/sqlite" // pure-Go SQLite driver, registered as "sqlite"
)

// mysqlSchema is the documented docs/compatibility.md#sql-metastore table, made idempotent.
const mysqlSchema = `CREATE TABLE IF NOT EXISTS encryption_key (
  id          VARCHAR(255) NOT NULL,
  created     TIMESTAMP    NOT NULL DEFAULT CURRENT_TIMESTAMP,
  key_record  TEXT         NOT NULL,
  PRIMARY KEY (id, created),
  INDEX (created)
)`

// sqliteSchema is the docs/compatibility.md#sql-metastore table in SQLite's dialect (the same statements as the Rust
// SQLite metastore): SQLite has no inline INDEX clause, so the `created` index is its own statement.
var sqliteSchema = []string{
	`CREATE TABLE IF NOT EXISTS encryption_key (
  id          VARCHAR(255) NOT NULL,
  created     TIMESTAMP    NOT NULL DEFAULT CURRENT_TIMESTAMP,
  key_record  TEXT         NOT NULL,
  PRIMARY KEY (id, created)
)`,
	`CREATE INDEX IF NOT EXISTS encryption_key_created ON encryption_key (created)`,
}

// metastore is the upstream Metastore the session factory uses, plus what the CLI must do around it.
type metastore struct {
	appencryption.Metastore

	save  func() error // persist after a successful encrypt
	close func() error
}

func noop() error { return nil }

// openMetastore opens `sqlite:<path>`, `json:<path>` or `mysql:<URL or DSN>`.
func openMetastore(spec string) (*metastore, error) {
	kind, path, ok := strings.Cut(spec, ":")
	if !ok || path == "" {
		return nil, fmt.Errorf("%w: --metastore %q: want sqlite:<path>, json:<path> or mysql://…", errUsage, spec)
	}

	switch kind {
	case "sqlite":
		return openSQLite(path)
	case "json":
		return openJSON(path)
	case "mysql":
		return openMySQL(path)
	default:
		return nil, fmt.Errorf("%w: --metastore %q: unknown kind %q (want sqlite, json or mysql)", errUsage, spec, kind)
	}
}

// openSQLite opens (creating if needed) a SQLite file with the encryption_key table and wraps it in the upstream
// SQL metastore. SQLite takes `?` placeholders, so the MySQL dialect (the upstream default) is the right one.
func openSQLite(path string) (*metastore, error) {
	if strings.Contains(path, "?") {
		return nil, fmt.Errorf("%w: SQLite path %q must not contain '?'", errUsage, path)
	}

	// _time_format=sqlite: write time.Time parameters as `2006-01-02 15:04:05.999999999-07:00` (the driver's
	// default would be time.Time.String(), `… +0000 UTC`). With the process in UTC (see init in main.go) a key's
	// `created` is stored as `YYYY-MM-DD HH:MM:SS+00:00`.
	db, err := sql.Open("sqlite", path+"?_time_format=sqlite&_pragma=busy_timeout(5000)")
	if err != nil {
		return nil, fmt.Errorf("opening SQLite %s: %w", path, err)
	}

	for _, stmt := range sqliteSchema {
		if _, err := db.Exec(stmt); err != nil {
			return nil, errors.Join(fmt.Errorf("creating the encryption_key table in %s: %w", path, err), db.Close())
		}
	}

	return &metastore{
		Metastore: persistence.NewSQLMetastore(db, persistence.WithSQLMetastoreDBType(persistence.MySQL)),
		save:      noop,
		close:     db.Close,
	}, nil
}

// mysqlDSN turns what follows `mysql:` into a go-sql-driver DSN: `//user:pass@host:port/db[?params]` (the
// mysql:// URL that ASHERAH_TEST_MYSQL_URL and sqlx use) or a go-sql-driver DSN as is. Times are exchanged in UTC
// (the driver's default loc), which is what docs/compatibility.md#sql-metastore requires of every writer of the
// shared table.
func mysqlDSN(rest string) (string, error) {
	if !strings.HasPrefix(rest, "//") {
		if _, err := mysql.ParseDSN(rest); err != nil {
			return "", fmt.Errorf("%w: MySQL DSN: %v", errUsage, err)
		}

		return rest, nil
	}

	u, err := url.Parse("mysql:" + rest)
	if err != nil {
		return "", fmt.Errorf("%w: MySQL URL: %v", errUsage, err)
	}

	cfg := mysql.NewConfig()
	cfg.User = u.User.Username()
	cfg.Passwd, _ = u.User.Password()
	cfg.Net = "tcp"
	cfg.Addr = u.Host
	cfg.DBName = strings.TrimPrefix(u.Path, "/")
	cfg.ParseTime = true
	cfg.Loc = time.UTC

	if u.Port() == "" {
		cfg.Addr = u.Hostname() + ":3306"
	}

	return cfg.FormatDSN(), nil
}

// openMySQL connects to MySQL/MariaDB, creates the encryption_key table if missing, and wraps the connection in the
// upstream SQL metastore (MySQL dialect, the upstream default).
func openMySQL(rest string) (*metastore, error) {
	dsn, err := mysqlDSN(rest)
	if err != nil {
		return nil, err
	}

	db, err := sql.Open("mysql", dsn)
	if err != nil {
		return nil, fmt.Errorf("opening MySQL: %w", err)
	}

	if _, err := db.Exec(mysqlSchema); err != nil {
		return nil, errors.Join(fmt.Errorf("creating the encryption_key table in MySQL: %w", err), db.Close())
	}

	return &metastore{
		Metastore: persistence.NewSQLMetastore(db),
		save:      noop,
		close:     db.Close,
	}, nil
}

// jsonRow is one row of a JSON metastore file: the SQL table's columns with key_record as a JSON object.
type jsonRow struct {
	ID        string          `json:"id"`
	Created   int64           `json:"created"`
	KeyRecord json.RawMessage `json:"key_record"`
}

// openJSON loads the rows of path (a missing file is an empty metastore) into the upstream in-memory metastore;
// save writes every row back.
func openJSON(path string) (*metastore, error) {
	mem := persistence.NewMemoryMetastore()

	data, err := os.ReadFile(path)

	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return nil, fmt.Errorf("reading JSON metastore: %w", err)
	default:
		if err := loadRows(mem, data); err != nil {
			return nil, fmt.Errorf("JSON metastore %s: %w", path, err)
		}
	}

	return &metastore{
		Metastore: mem,
		save:      func() error { return saveRows(mem, path) },
		close:     noop,
	}, nil
}

func loadRows(mem *persistence.MemoryMetastore, data []byte) error {
	var rows []jsonRow
	if err := json.Unmarshal(data, &rows); err != nil {
		return err
	}

	for i, row := range rows {
		raw := row.KeyRecord

		// Also accept key_record as a string holding the JSON (the SQL column's form).
		if len(raw) > 0 && raw[0] == '"' {
			var text string
			if err := json.Unmarshal(raw, &text); err != nil {
				return fmt.Errorf("row %d: %w", i, err)
			}

			raw = []byte(text)
		}

		var ekr appencryption.EnvelopeKeyRecord
		if err := json.Unmarshal(raw, &ekr); err != nil {
			return fmt.Errorf("row %d (%s, %d): key_record: %w", i, row.ID, row.Created, err)
		}

		ekr.ID = row.ID

		if ok, err := mem.Store(context.Background(), row.ID, row.Created, &ekr); err != nil || !ok {
			return fmt.Errorf("row %d: duplicate (id, created) = (%s, %d)", i, row.ID, row.Created)
		}
	}

	return nil
}

// saveRows writes all rows sorted by (id, created), one compact row per line, key_record exactly as Go's encoder
// emits it; the file is replaced atomically.
func saveRows(mem *persistence.MemoryMetastore, path string) error {
	mem.RLock()

	rows := make([]jsonRow, 0, len(mem.Envelopes))

	for id, byCreated := range mem.Envelopes {
		for created, ekr := range byCreated {
			record, err := json.Marshal(ekr)
			if err != nil {
				mem.RUnlock()
				return fmt.Errorf("encoding key_record of (%s, %d): %w", id, created, err)
			}

			rows = append(rows, jsonRow{ID: id, Created: created, KeyRecord: record})
		}
	}

	mem.RUnlock()

	sort.Slice(rows, func(i, j int) bool {
		if rows[i].ID != rows[j].ID {
			return rows[i].ID < rows[j].ID
		}

		return rows[i].Created < rows[j].Created
	})

	var buf bytes.Buffer

	buf.WriteString("[")

	for i, row := range rows {
		line, err := json.Marshal(row)
		if err != nil {
			return err
		}

		if i > 0 {
			buf.WriteString(",")
		}

		buf.WriteString("\n  ")
		buf.Write(line)
	}

	buf.WriteString("\n]\n")

	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("saving JSON metastore: %w", err)
	}

	_, werr := tmp.Write(buf.Bytes())
	if err := errors.Join(werr, tmp.Chmod(0o644), tmp.Close()); err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("saving JSON metastore: %w", err)
	}

	if err := os.Rename(tmp.Name(), path); err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("saving JSON metastore: %w", err)
	}

	return nil
}
