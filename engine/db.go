package engine

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

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
	// Command names the socq command opening the database ("ingest",
	// "query", "serve"); the lock file records it, so that another process
	// waiting for the database can say whom it waits for.
	Command string
	// LockWait is how long Open waits while another process holds the
	// database (a writer waits for everyone, a reader for a writer) before
	// it fails with an *InUseError. Zero means $SOCQ_LOCK_WAIT, else
	// DefaultLockWait; negative means do not wait.
	LockWait time.Duration
	// Waiting, when not nil, gets one line ("waiting for socq ingest, pid
	// 1234 ...") when Open has to wait for the lock. Commands pass stderr
	// when it is a terminal.
	Waiting io.Writer
	// MemoryLimit is DuckDB's memory_limit for the database ("2GB",
	// "512MiB"). Empty means $SOCQ_MEMORY_LIMIT, else DuckDB's default
	// (80% of the machine's memory). It is set before the configuration is
	// locked, so SQL cannot raise it.
	MemoryLimit string
	// DefaultMemoryLimit replaces DuckDB's default when neither MemoryLimit
	// nor $SOCQ_MEMORY_LIMIT is set. Ingest sets it: DuckDB keeps every
	// block it writes in its buffer pool until the pool reaches the limit,
	// so with DuckDB's default (80% of RAM) a large load's memory grows
	// with the file.
	DefaultMemoryLimit string
}

// DB is socq's database: the only place that talks to DuckDB.
type DB struct {
	sql  *sql.DB
	path string
	lock *fileLock // nil for an in-memory database
	// stages numbers the temporary tables of Stager.
	stages atomic.Int64
}

// Open opens (and in write mode creates and migrates) the database at path.
// An empty path opens a private in-memory database.
//
// Every connection is sandboxed: no extension is installed or loaded, no
// file but the database (and opts.ReadPaths) and no network is reachable,
// persistent secrets and community extensions are off, and the
// configuration is locked, so no SQL can change any of that.
//
// A database file is locked for the life of the DB (see LockPath): a writer
// exclusively, a reader shared. Open waits for another process's lock (see
// Options.LockWait) and then fails with an *InUseError naming it.
func Open(ctx context.Context, path string, opts Options) (*DB, error) {
	if path != "" && opts.ReadOnly {
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%w at %s", ErrNoDatabase, path)
		}
	}
	if path == "" && opts.ReadOnly {
		return nil, errors.New("open database: an in-memory database cannot be read-only")
	}
	memoryLimit := strings.TrimSpace(opts.MemoryLimit)
	if memoryLimit == "" {
		memoryLimit = strings.TrimSpace(os.Getenv("SOCQ_MEMORY_LIMIT"))
	}
	if memoryLimit == "" {
		memoryLimit = strings.TrimSpace(opts.DefaultMemoryLimit)
	}
	var lock *fileLock
	if path != "" {
		if !opts.ReadOnly {
			// The default place ($XDG_DATA_HOME/socq) may not exist yet.
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				return nil, fmt.Errorf("open database %s: %w", path, err)
			}
		}
		wait, err := lockWait(opts)
		if err != nil {
			return nil, err
		}
		if lock, err = acquireLock(ctx, path, !opts.ReadOnly, opts.Command, wait, opts.Waiting); err != nil {
			return nil, err
		}
	}
	db, err := open(ctx, path, opts, memoryLimit)
	if err != nil {
		lock.release()
		return nil, err
	}
	db.lock = lock
	return db, nil
}

// sandboxParams are the DuckDB settings every connection starts with; they
// can only be given when the database starts.
func sandboxParams(opts Options) url.Values {
	params := url.Values{}
	params.Set("autoload_known_extensions", "false")
	params.Set("autoinstall_known_extensions", "false")
	params.Set("allow_community_extensions", "false")
	params.Set("allow_unsigned_extensions", "false")
	params.Set("allow_persistent_secrets", "false")
	if opts.ReadOnly {
		params.Set("access_mode", "read_only")
	}
	if len(opts.ReadPaths) == 0 && opts.WriteDir == "" {
		params.Set("enable_external_access", "false")
	}
	return params
}

func open(ctx context.Context, path string, opts Options, memoryLimit string) (*DB, error) {
	// The settings are global to the database: the first connection makes
	// them and locks them, and every later connection starts with them.
	// (A later connection could not set them again: they are locked.)
	var mu sync.Mutex
	configured := false
	init := func(e driver.ExecerContext) error {
		mu.Lock()
		defer mu.Unlock()
		if configured {
			return nil
		}
		// Another Open of the same file in this process shares DuckDB's
		// instance (duckdb-go caches instances by path), whose settings are
		// made and locked already: check them instead. (Only readers share:
		// a writer's lock excludes every other Open.)
		if shared, err := sandboxedAlready(ctx, e); err != nil || shared {
			if err == nil && opts.WriteDir != "" {
				// Its settings do not allow writing to WriteDir.
				return errors.New("the database is open in this process already, without write access for the export")
			}
			configured = err == nil
			return err
		}
		stmts := []string{`SET GLOBAL TimeZone = 'UTC'`}
		if memoryLimit != "" {
			stmts = append(stmts, `SET GLOBAL memory_limit = `+QuoteString(memoryLimit))
		}
		if len(opts.ReadPaths) > 0 || opts.WriteDir != "" {
			quoted := make([]string, len(opts.ReadPaths))
			for i, p := range opts.ReadPaths {
				quoted[i] = QuoteString(p)
			}
			if len(quoted) > 0 {
				stmts = append(stmts, `SET GLOBAL allowed_paths = [`+strings.Join(quoted, ", ")+`]`)
			}
			if opts.WriteDir != "" {
				// A trailing separator so that /tmp/x does not also allow /tmp/xy.
				dir := strings.TrimRight(opts.WriteDir, string(filepath.Separator)) + string(filepath.Separator)
				stmts = append(stmts, `SET GLOBAL allowed_directories = [`+QuoteString(dir)+`]`,
					// Spill to the same place: DuckDB could not write its
					// default temporary directory next to the database.
					`SET GLOBAL temp_directory = `+QuoteString(filepath.Join(opts.WriteDir, ".spill")))
			}
			stmts = append(stmts, `SET GLOBAL enable_external_access = false`)
		}
		stmts = append(stmts, `SET GLOBAL lock_configuration = true`)
		for _, s := range stmts {
			if _, err := e.ExecContext(ctx, s, nil); err != nil {
				if strings.HasPrefix(s, "SET GLOBAL memory_limit") {
					return &memoryLimitError{limit: memoryLimit, err: err}
				}
				return fmt.Errorf("%s: %w", s, err)
			}
		}
		configured = true
		return nil
	}
	connector, err := duckdb.NewConnector(path+"?"+sandboxParams(opts).Encode(), init)
	if err != nil {
		return nil, openError(path, fmt.Errorf("open database %s: %w", displayPath(path), err))
	}
	db := &DB{sql: sql.OpenDB(connector), path: path}
	// One connection: each connection to ":memory:" would be its own
	// database, and with one connection concurrent users of one DB (the
	// server's requests) wait for each other's transactions instead of
	// failing on DuckDB's write-write conflicts.
	db.sql.SetMaxOpenConns(1)
	if err := db.migrate(ctx, opts.ReadOnly); err != nil {
		db.sql.Close()
		if mle := (*memoryLimitError)(nil); errors.As(err, &mle) {
			return nil, mle // the first connection's; not the database's fault
		}
		return nil, openError(path, err)
	}
	return db, nil
}

// memoryLimitError is a memory limit DuckDB does not accept.
type memoryLimitError struct {
	limit string
	err   error
}

func (e *memoryLimitError) Error() string {
	msg := strings.TrimPrefix(e.err.Error(), "Parser Error: ")
	return fmt.Sprintf("memory limit %q: %s (give a size such as 2GB or 512MiB)", e.limit, msg)
}

func (e *memoryLimitError) Unwrap() error { return e.err }

// sandboxedAlready reports whether the database of connection e has its
// configuration locked already with external access off; it fails if the
// configuration is locked with external access on.
func sandboxedAlready(ctx context.Context, e driver.ExecerContext) (bool, error) {
	q, ok := e.(driver.QueryerContext)
	if !ok {
		return false, nil
	}
	rows, err := q.QueryContext(ctx, `SELECT current_setting('lock_configuration'), current_setting('enable_external_access')`, nil)
	if err != nil {
		return false, fmt.Errorf("read settings: %w", err)
	}
	defer rows.Close()
	values := make([]driver.Value, 2)
	if err := rows.Next(values); err != nil {
		return false, fmt.Errorf("read settings: %w", err)
	}
	locked, _ := values[0].(bool)
	external, _ := values[1].(bool)
	if locked && external {
		return false, errors.New("the database is open in this process with external access on")
	}
	return locked, nil
}

// duckDBLockPID finds the process DuckDB names in its lock error: "Could not
// set lock on file ...: Conflicting lock is held in /usr/bin/x (PID 1234)".
var duckDBLockPID = regexp.MustCompile(`Conflicting lock is held in (.*?) \(PID (\d+)\)`)

// openError turns DuckDB's lock error, which only a process that is not socq
// (or predates socq's lock file) can cause, into one naming that process.
func openError(path string, err error) error {
	if m := duckDBLockPID.FindStringSubmatch(err.Error()); m != nil {
		return fmt.Errorf("database %s is in use by %s, pid %s (not a socq command that waits its turn): try again when it has finished", path, filepath.Base(m[1]), m[2])
	}
	if strings.Contains(err.Error(), "Could not set lock on file") {
		return fmt.Errorf("database %s is in use by another process: try again when it has finished", path)
	}
	return err
}

func displayPath(path string) string {
	if path == "" {
		return "(in memory)"
	}
	return path
}

// Close closes the database and releases its lock.
func (db *DB) Close() error {
	err := db.sql.Close()
	return errors.Join(err, db.lock.release())
}

// Setting returns the value of a DuckDB setting on a connection of db, as
// text ("false", "2.0 GiB"). Tests use it to check the sandbox.
func (db *DB) Setting(ctx context.Context, name string) (string, error) {
	var v string
	err := db.sql.QueryRowContext(ctx, `SELECT CAST(current_setting(?) AS VARCHAR)`, name).Scan(&v)
	if err != nil {
		return "", fmt.Errorf("read setting %s: %w", name, err)
	}
	return v, nil
}

// SchemaVersionError is returned by Open for a database of another schema
// version than SchemaVersion that it cannot (or, read-only, may not) migrate.
type SchemaVersionError struct {
	Have int // the database's version
	msg  string
}

func (e *SchemaVersionError) Error() string { return e.msg }

// SchemaVersion reads the schema version recorded in the database; 0 when
// none is.
func (db *DB) SchemaVersion(ctx context.Context) (int, error) {
	v, err := db.schemaVersion(ctx)
	if err != nil {
		return 0, fmt.Errorf("read schema version of %s: %w", displayPath(db.path), err)
	}
	return v, nil
}

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
		return &SchemaVersionError{Have: v, msg: fmt.Sprintf("database %s has schema version %d, newer than this socq understands (%d): upgrade socq", displayPath(db.path), v, SchemaVersion)}
	case readOnly:
		return &SchemaVersionError{Have: v, msg: fmt.Sprintf("database %s has schema version %d, this socq needs %d: run any writing command (e.g. socq ingest) to upgrade it", displayPath(db.path), v, SchemaVersion)}
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
