package engine

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/duckdb/duckdb-go/v2"
)

// SchemaVersion is the version of the database layout this socq writes.
// Bump it and append to migrations when the layout changes.
const SchemaVersion = 2

// migrations[i] takes a database from schema version i to i+1.
var migrations = []func() []string{
	func() []string {
		return []string{
			`CREATE TABLE IF NOT EXISTS socq_meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)`,
			createTableSQL(SecurityIncident()),
		}
	},
	// 2: automation rules for recorded incidents (package incident).
	func() []string {
		return []string{
			`CREATE TABLE IF NOT EXISTS socq_rules (
  name VARCHAR PRIMARY KEY,
  trigger VARCHAR NOT NULL,
  condition VARCHAR NOT NULL,
  actions JSON NOT NULL,
  run_order INTEGER NOT NULL,
  enabled BOOLEAN NOT NULL,
  created_by VARCHAR NOT NULL,
  created_time TIMESTAMP_NS NOT NULL
)`,
		}
	},
}

// ErrNoDatabase is returned by Open in read-only mode when the file is missing.
var ErrNoDatabase = errors.New("no database")

// Options says how a database is opened.
type Options struct {
	// ReadOnly opens an existing file without write access; queries use it.
	ReadOnly bool
	// ReadPaths are the only files DuckDB may read besides the database
	// (ingest reads its input files through DuckDB). With none, every file,
	// network and extension access is off. Either way the configuration is
	// locked, so SQL cannot turn access back on.
	ReadPaths []string
	// WriteDir is the one directory DuckDB may write to, for COPY ... TO
	// (see CopyParquet). Only export sets it, to a fresh private temporary
	// directory it creates next to its output and renames into place
	// afterwards; socq query, ingest and everything else leave it empty, so
	// SQL they run cannot write any file. DuckDB's allowed_directories
	// grants read and write below the directory alone, and the configuration
	// is locked before any other statement runs, so SQL cannot widen it.
	WriteDir string
}

// DB is socq's database: the only place that talks to DuckDB.
type DB struct {
	sql  *sql.DB
	path string
}

// Open opens (and in write mode creates and migrates) the database at path.
// An empty path opens a private in-memory database.
func Open(ctx context.Context, path string, opts Options) (*DB, error) {
	if path != "" && opts.ReadOnly {
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%w at %s", ErrNoDatabase, path)
		}
	}
	if path == "" && opts.ReadOnly {
		return nil, errors.New("open database: an in-memory database cannot be read-only")
	}
	if path != "" && !opts.ReadOnly {
		// The default place ($XDG_DATA_HOME/socq) may not exist yet.
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return nil, fmt.Errorf("open database %s: %w", path, err)
		}
	}
	params := url.Values{}
	params.Set("autoload_known_extensions", "false")
	params.Set("autoinstall_known_extensions", "false")
	if opts.ReadOnly {
		params.Set("access_mode", "read_only")
	}
	if len(opts.ReadPaths) == 0 && opts.WriteDir == "" {
		params.Set("enable_external_access", "false")
	}
	init := func(e driver.ExecerContext) error {
		stmts := []string{`SET TimeZone = 'UTC'`}
		if len(opts.ReadPaths) > 0 || opts.WriteDir != "" {
			quoted := make([]string, len(opts.ReadPaths))
			for i, p := range opts.ReadPaths {
				quoted[i] = QuoteString(p)
			}
			if len(quoted) > 0 {
				stmts = append(stmts, `SET allowed_paths = [`+strings.Join(quoted, ", ")+`]`)
			}
			if opts.WriteDir != "" {
				// A trailing separator so that /tmp/x does not also allow /tmp/xy.
				dir := strings.TrimRight(opts.WriteDir, string(filepath.Separator)) + string(filepath.Separator)
				stmts = append(stmts, `SET allowed_directories = [`+QuoteString(dir)+`]`,
					// Spill to the same place: DuckDB could not write its
					// default temporary directory next to the database.
					`SET temp_directory = `+QuoteString(filepath.Join(opts.WriteDir, ".spill")))
			}
			stmts = append(stmts, `SET enable_external_access = false`)
		}
		stmts = append(stmts, `SET lock_configuration = true`)
		for _, s := range stmts {
			if _, err := e.ExecContext(ctx, s, nil); err != nil {
				return fmt.Errorf("%s: %w", s, err)
			}
		}
		return nil
	}
	connector, err := duckdb.NewConnector(path+"?"+params.Encode(), init)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", displayPath(path), err)
	}
	db := &DB{sql: sql.OpenDB(connector), path: path}
	// One connection: each connection to ":memory:" would be its own
	// database, and TimeZone is a per-connection setting that a second
	// connection could not set once the configuration is locked. Concurrent
	// users of one DB wait for each other's transactions.
	db.sql.SetMaxOpenConns(1)
	if err := db.migrate(ctx, opts.ReadOnly); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

func displayPath(path string) string {
	if path == "" {
		return "(in memory)"
	}
	return path
}

// Close closes the database.
func (db *DB) Close() error { return db.sql.Close() }

func (db *DB) schemaVersion(ctx context.Context) (int, error) {
	var exists bool
	err := db.sql.QueryRowContext(ctx,
		`SELECT count(*) > 0 FROM duckdb_tables() WHERE table_name = 'socq_meta' AND database_name = current_database()`).Scan(&exists)
	if err != nil || !exists {
		return 0, err
	}
	var v int
	err = db.sql.QueryRowContext(ctx, `SELECT CAST(value AS INTEGER) FROM socq_meta WHERE key = 'schema_version'`).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return v, err
}

func (db *DB) migrate(ctx context.Context, readOnly bool) error {
	v, err := db.schemaVersion(ctx)
	if err != nil {
		return fmt.Errorf("read schema version of %s: %w", displayPath(db.path), err)
	}
	switch {
	case v == SchemaVersion:
		return nil
	case v > SchemaVersion:
		return fmt.Errorf("database %s has schema version %d, newer than this socq understands (%d): upgrade socq", displayPath(db.path), v, SchemaVersion)
	case readOnly:
		return fmt.Errorf("database %s has schema version %d, this socq needs %d: run any writing command (e.g. socq ingest) to upgrade it", displayPath(db.path), v, SchemaVersion)
	}
	return db.Tx(ctx, func(tx *Tx) error {
		for ; v < SchemaVersion; v++ {
			for _, stmt := range migrations[v]() {
				if _, err := tx.Exec(ctx, stmt); err != nil {
					return fmt.Errorf("migrate schema to version %d: %w", v+1, err)
				}
			}
		}
		_, err := tx.Exec(ctx, `INSERT OR REPLACE INTO socq_meta VALUES ('schema_version', ?)`, fmt.Sprint(SchemaVersion))
		return err
	})
}

// createTableSQL is the DDL for a catalog table. Column names are the KQL
// names: a catalog table never holds two names equal but for case.
func createTableSQL(t *Table) string {
	cols := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		def := QuoteIdent(c.Name) + " " + c.Type.SQLType()
		if c.Type == String {
			// Kusto strings are never null; the table keeps that promise.
			def += " NOT NULL DEFAULT ''"
		}
		cols[i] = def
	}
	return "CREATE TABLE IF NOT EXISTS " + QuoteIdent(t.Name) + " (\n  " + strings.Join(cols, ",\n  ") + "\n)"
}

// IsConflict reports whether err is DuckDB refusing a transaction because
// another transaction changed the same rows first; retrying it may succeed.
func IsConflict(err error) bool {
	if err == nil {
		return false
	}
	msg := err.Error()
	return strings.Contains(msg, "Conflict on") || strings.Contains(msg, "write-write conflict") ||
		strings.Contains(msg, "TransactionContext Error")
}

// Tx is a database transaction.
type Tx struct{ tx *sql.Tx }

// Tx runs fn in a transaction, committing if it returns nil.
func (db *DB) Tx(ctx context.Context, fn func(*Tx) error) error {
	tx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	if err := fn(&Tx{tx}); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// Exec runs a statement in the transaction and returns the rows it affected.
func (tx *Tx) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	return rowsAffected(tx.tx.ExecContext(ctx, query, args...))
}

func rowsAffected(res sql.Result, err error) (int64, error) {
	if err != nil {
		return 0, err
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// Query runs a query in the transaction.
func (tx *Tx) Query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return tx.tx.QueryContext(ctx, query, args...)
}

// Exec runs one statement outside any explicit transaction.
func (db *DB) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	return rowsAffected(db.sql.ExecContext(ctx, query, args...))
}
