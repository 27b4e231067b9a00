// Package ingest loads SecurityIncident history exported from Log Analytics
// into socq's database.
//
// It reads NDJSON, a JSON array of objects, the Log Analytics query API
// response and the Logs page's CSV export, plain or gzip-compressed; the
// format is told from the content, not the file name. Values are normalised
// the same way whatever the format: dynamic columns become minified JSON
// (JSON encoded in strings is decoded), datetimes become UTC, missing
// strings become "".
//
// DuckDB does the reading. It reads a file twice: once to check every record
// (a datetime that does not parse, an IncidentNumber that is not an int) and
// once to insert the good ones, converting text to the table's types in SQL.
// Go splits a file into records only to find the lines of rejected records,
// when DuckDB cannot parse the file (a malformed line), and for readers (see
// Reader).
//
// DuckDB's memory limit during an ingest into a file is MemoryLimit unless
// the caller sets one: the rows DuckDB writes stay in its buffer pool until
// the limit, so it bounds the memory of a load of any size.
//
// Loading is idempotent: a snapshot row is identified by (IncidentName,
// TimeGenerated, LastModifiedTime), and a row whose key is in the table
// already, or earlier in the same input, is not added again. Each input loads
// in one transaction. A record that cannot be read is rejected, with its line
// and the reason, and the rest of its input is loaded. A column the table
// lacks is reported once per input and ignored.
package ingest

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/socq/socq/engine"
	"github.com/socq/socq/verify"
)

// Options for Files.
type Options struct {
	// RejectsPath is the file every rejected record is written to, as NDJSON.
	// "" means the database path with ".rejects.ndjson" appended; for an
	// in-memory database no file is written unless RejectsPath is set.
	RejectsPath string
	// Stdin is read for the file name "-".
	Stdin io.Reader
	// Database says how Files opens the database: the command named in its
	// lock file, the lock wait, the memory limit. Files sets ReadPaths (and
	// ReadOnly false) itself, and DefaultMemoryLimit to MemoryLimit for a
	// database file when it is empty.
	Database engine.Options
}

// FileSummary counts what happened to the records of one input.
type FileSummary struct {
	Name   string
	Format Format
	// Read is the number of records: Added + AlreadyPresent + Rejected.
	Read int
	// Added rows are new to the table.
	Added int
	// AlreadyPresent rows have a key that was in the table already, or
	// earlier in the same input.
	AlreadyPresent int
	// Rejected records were not loaded; Report.Rejects says why.
	Rejected int
}

// Reject is a record that was not loaded.
type Reject struct {
	File   string `json:"file"`
	Line   int    `json:"line"`   // the 1-based line the record starts on
	Reason string `json:"reason"` // names the column and the bad value
	Raw    string `json:"raw"`    // the record as written in the input
}

// String is the reject as FILE:LINE: reason.
func (r Reject) String() string { return fmt.Sprintf("%s:%d: %s", r.File, r.Line, r.Reason) }

// Report is what a load did.
type Report struct {
	Files    []FileSummary
	Rejects  []Reject
	Warnings []string // "FILE: unknown column 'Foo' ignored"
	// RejectsPath is the file the rejects were written to; "" when none was.
	RejectsPath string
}

func (r *Report) add(o outcome) {
	r.Files = append(r.Files, o.summary)
	r.Rejects = append(r.Rejects, o.rejects...)
	r.Warnings = append(r.Warnings, o.warnings...)
}

// WriteRejects writes the rejects as NDJSON: one object with file, line,
// reason and raw per line.
func (r *Report) WriteRejects(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for _, rej := range r.Rejects {
		if err := enc.Encode(rej); err != nil {
			return err
		}
	}
	return nil
}

// Files loads each file, or standard input for "-", into the SecurityIncident
// table of the database at dbPath, creating it if needed. Every file is
// opened and its format detected before anything is loaded; a missing file
// gives an error that is fs.ErrNotExist. Then each loads in its own
// transaction. On an error the report covers the files loaded before it;
// nothing of the file that failed is loaded.
func Files(ctx context.Context, dbPath string, files []string, opts Options) (*Report, error) {
	tmp, err := os.MkdirTemp("", "socq-ingest-")
	if err != nil {
		return nil, fmt.Errorf("ingest: %w", err)
	}
	defer os.RemoveAll(tmp)

	t := securityIncident()
	inputs := make([]*input, 0, len(files))
	readPaths := make([]string, 0, len(files))
	var errs []error
	for _, name := range files {
		in, err := resolve(t, name, opts.Stdin, tmp)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		inputs = append(inputs, in)
		readPaths = append(readPaths, in.path)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}

	dbOpts := databaseOptions(dbPath, opts.Database, readPaths)
	db, err := engine.Open(ctx, dbPath, dbOpts)
	if err != nil {
		return nil, err
	}
	defer func() {
		if db != nil {
			db.Close()
		}
	}()

	l := &loader{db: db, t: t}
	rep := &Report{}
	for _, in := range inputs {
		out, err := l.loadFile(ctx, in)
		if err != nil && ctx.Err() == nil && isOutOfMemory(err) && defaultLimit(dbOpts) {
			// MemoryLimit bounds the buffer pool of an ordinary load, but a
			// file of huge records (tens of MB each) needs more: nothing of
			// it was loaded, so load it again under DuckDB's own default.
			// The limit is locked once set: this takes a new database.
			closeErr := db.Close()
			db = nil
			if closeErr != nil {
				err = closeErr
				return rep, fmt.Errorf("ingest %s: reopen the database without the memory limit: %w", in.name, err)
			}
			dbOpts.DefaultMemoryLimit = ""
			if db, err = engine.Open(ctx, dbPath, dbOpts); err != nil {
				return rep, fmt.Errorf("ingest %s: reopen the database without the memory limit: %w", in.name, err)
			}
			l.db = db
			out, err = l.loadFile(ctx, in)
		}
		if err != nil {
			// Nothing of the file was loaded: no summary, no rejects.
			err = fmt.Errorf("ingest %s: %w", in.name, err)
			return rep, errors.Join(err, rep.writeRejectsFile(dbPath, opts.RejectsPath))
		}
		rep.add(out)
	}
	if err := rep.warnNumberClashes(ctx, db); err != nil {
		return rep, errors.Join(err, rep.writeRejectsFile(dbPath, opts.RejectsPath))
	}
	return rep, rep.writeRejectsFile(dbPath, opts.RejectsPath)
}

// warnNumberClashes warns, after rows were added, about incident numbers
// that name more than one incident (and incidents with more than one
// number): history from Sentinel loaded into a database where socq already
// numbered incidents of its own can give two incidents one number, and
// queries by IncidentNumber would mix them.
func (r *Report) warnNumberClashes(ctx context.Context, db *engine.DB) error {
	added := 0
	for _, f := range r.Files {
		added += f.Added
	}
	if added == 0 {
		return nil
	}
	findings, err := verify.IncidentNumbers(ctx, db)
	if err != nil {
		return fmt.Errorf("ingest: check incident numbers: %w", err)
	}
	for _, f := range findings {
		r.Warnings = append(r.Warnings, f.Message+": queries by IncidentNumber mix them up ('socq verify' lists every problem)")
	}
	return nil
}

// defaultLimit reports whether the database opened with opts has
// DefaultMemoryLimit as its limit: neither the caller nor
// $SOCQ_MEMORY_LIMIT gave one.
func defaultLimit(opts engine.Options) bool {
	return opts.DefaultMemoryLimit != "" && strings.TrimSpace(opts.MemoryLimit) == "" &&
		strings.TrimSpace(os.Getenv("SOCQ_MEMORY_LIMIT")) == ""
}

// isOutOfMemory reports whether DuckDB failed for want of memory.
func isOutOfMemory(err error) bool {
	return strings.Contains(err.Error(), "Out of Memory Error")
}

// MemoryLimit is DuckDB's memory limit during an ingest into a database
// file unless --memory-limit or $SOCQ_MEMORY_LIMIT says otherwise. DuckDB
// writes the rows of a large insert to the file as it goes, before the
// commit, but keeps the written blocks in its buffer pool until the pool
// is full: with DuckDB's default limit (80% of RAM) the memory of a load
// grows with the file (4 GiB for 720 000 rows), with this one it stays
// under 1 GiB. An in-memory database keeps DuckDB's default: its rows live
// in the buffer pool.
const MemoryLimit = "512MB"

// databaseOptions are the options Files opens the database at dbPath with.
func databaseOptions(dbPath string, opts engine.Options, readPaths []string) engine.Options {
	opts.ReadOnly, opts.ReadPaths = false, readPaths
	if opts.Command == "" {
		opts.Command = "ingest"
	}
	if dbPath != "" && opts.DefaultMemoryLimit == "" {
		opts.DefaultMemoryLimit = MemoryLimit
	}
	return opts
}

// writeRejectsFile writes the rejects, if any, to path or next to the
// database, and records where.
func (r *Report) writeRejectsFile(dbPath, path string) error {
	if len(r.Rejects) == 0 {
		return nil
	}
	if path == "" {
		if dbPath == "" {
			return nil
		}
		path = dbPath + ".rejects.ndjson"
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("write rejects: %w", err)
	}
	if err := r.WriteRejects(f); err != nil {
		f.Close()
		return fmt.Errorf("write rejects to %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write rejects to %s: %w", path, err)
	}
	r.RejectsPath = path
	return nil
}

// Reader loads the content r reads, called name in reports, into the
// SecurityIncident table of db, in one transaction. It works on any open
// database, including one opened without file access (socq demo loads its
// embedded history this way): Go splits the content into records and hands
// them to DuckDB in batches, which is slower than Files for large inputs.
// Rejects are returned in the report, not written to a file.
func Reader(ctx context.Context, db *engine.DB, name string, r io.Reader) (*Report, error) {
	content, err := uncompressed(bufio.NewReaderSize(r, sniffSize))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	format, err := sniff(content)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	l := &loader{db: db, t: securityIncident()}
	out, err := l.loadRecords(ctx, name, format, content)
	rep := &Report{}
	rep.add(out)
	if err != nil {
		return rep, fmt.Errorf("ingest %s: %w", name, err)
	}
	return rep, nil
}
