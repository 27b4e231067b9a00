// Package export writes incident history and KQL results in the formats
// notebooks read: Parquet and Arrow IPC streams.
//
// There are two writers. Tables (SecurityIncident, the task audit table) go
// through DuckDB's COPY ... (FORMAT parquet), with the dynamic columns whose
// shape Sentinel documents as nested Parquet types (see engine.ExportSQL).
// KQL results go through arrow-go: the rows engine.DB.Query returns are
// collected into Arrow record batches (Schema gives their types) — or, in a
// build with duckdb-go's duckdb_arrow tag, DuckDB's own Arrow batches are
// taken through engine.DB.QueryArrow — and written as an Arrow IPC stream
// or, through pqarrow, as Parquet. That keeps KQL's case-sensitive column
// names (DuckDB's COPY would rename a second column "title" next to "Title"
// to "title_1") and needs no file access in DuckDB.
//
// Files are written atomically: into a temporary directory next to the
// destination, which is renamed into place only when everything is written.
// A failed or interrupted export leaves the previous one as it was.
package export

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/socq/socq/engine"
)

// Options say how an export is written.
type Options struct {
	Compression engine.Compression
	// ByMonth writes hive-style year=YYYY/month=MM directories of Parquet
	// files, by the month of TimeGenerated, instead of one file.
	ByMonth bool
}

// Result is what an export wrote.
type Result struct {
	Rows  int64
	Files int
	Path  string
}

// ErrNotAnExport is returned when the destination of a partitioned export is
// an existing directory that does not hold a previous export, which socq
// refuses to replace.
var ErrNotAnExport = errors.New("not a previous socq export")

// Table writes a table of the database at dbPath (engine.ExportSecurityIncident
// or engine.ExportTasks) to out as Parquet through DuckDB's COPY. The
// database is opened read-only, allowed to write only into the private
// temporary directory the export is written to.
func Table(ctx context.Context, dbPath, table, out string, opts Options) (Result, error) {
	query, err := engine.ExportSQL(table, opts.ByMonth)
	if err != nil {
		return Result{}, err
	}
	if _, err := engine.ParseCompression(string(opts.Compression)); err != nil {
		return Result{}, err
	}
	return atomically(out, opts.ByMonth, func(tmp, dest string) (int64, error) {
		db, err := engine.Open(ctx, dbPath, engine.Options{ReadOnly: true, WriteDir: tmp, Command: "export"})
		if err != nil {
			return 0, err
		}
		defer db.Close()
		copts := engine.CopyOptions{Compression: opts.Compression}
		if opts.ByMonth {
			copts.PartitionBy = engine.MonthPartitions
		}
		return db.CopyParquet(ctx, query, dest, copts)
	})
}

// Query runs plan on db and writes its result to out as Parquet through
// arrow-go, column names as in KQL, dynamic values as JSON text. With
// ByMonth the result must have a datetime column TimeGenerated.
func Query(ctx context.Context, db *engine.DB, plan *engine.Plan, out string, opts Options) (Result, error) {
	if _, err := codec(opts.Compression); err != nil {
		return Result{}, err
	}
	if opts.ByMonth {
		col := -1
		for i, c := range plan.Columns {
			if c.Name == "TimeGenerated" && c.Type == engine.DateTime {
				col = i
			}
		}
		if col < 0 {
			return Result{}, errors.New("--partition month needs a datetime column TimeGenerated in the query's result")
		}
		return atomically(out, true, func(_, dest string) (int64, error) {
			return writePartitioned(ctx, db, plan, dest, col, opts.Compression)
		})
	}
	return atomically(out, false, func(_, dest string) (int64, error) {
		return WriteFile(dest, func(w io.Writer) (int64, error) {
			return WriteParquet(ctx, db, plan, w, opts.Compression)
		})
	})
}

// WriteFile creates path, calls write with it and closes it.
func WriteFile(path string, write func(io.Writer) (int64, error)) (int64, error) {
	f, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	n, err := write(f)
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("write %s: %w", path, cerr)
	}
	return n, err
}

// Atomic writes a file or directory at out by calling write with a path in a
// temporary directory next to out, then renaming that path to out. out is
// left as it was if write fails. It returns what write returned.
func Atomic(out string, dir bool, write func(tmpPath string) (int64, error)) (int64, error) {
	res, err := atomically(out, dir, func(_, dest string) (int64, error) { return write(dest) })
	return res.Rows, err
}

// atomically prepares a temporary directory next to out, calls write with it
// and the path to write there, and moves that path to out.
func atomically(out string, dir bool, write func(tmp, dest string) (int64, error)) (Result, error) {
	if out == "" {
		return Result{}, errors.New("no output path")
	}
	out = filepath.Clean(out)
	if err := checkDestination(out, dir); err != nil {
		return Result{}, err
	}
	parent := filepath.Dir(out)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return Result{}, fmt.Errorf("create %s: %w", parent, err)
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(out)+".socq-tmp-")
	if err != nil {
		return Result{}, fmt.Errorf("create a temporary directory next to %s: %w", out, err)
	}
	defer os.RemoveAll(tmp)
	dest := filepath.Join(tmp, "out")
	rows, err := write(tmp, dest)
	if err != nil {
		return Result{}, err
	}
	files := 1
	if dir {
		if err := os.MkdirAll(dest, 0o755); err != nil { // an empty result writes nothing
			return Result{}, err
		}
		if files, err = countFiles(dest); err != nil {
			return Result{}, err
		}
		err = replaceDir(dest, out, filepath.Join(tmp, "previous"))
	} else {
		err = os.Rename(dest, out)
	}
	if err != nil {
		return Result{}, fmt.Errorf("move the export into place at %s: %w", out, err)
	}
	return Result{Rows: rows, Files: files, Path: out}, nil
}

// checkDestination refuses destinations an export must not replace: a
// directory for a file, a file for a directory, and a directory that does
// not look like a previous partitioned export.
func checkDestination(out string, dir bool) error {
	fi, err := os.Stat(out)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	switch {
	case !dir && fi.IsDir():
		return fmt.Errorf("%s is a directory; give a file name (or --partition month to write a directory)", out)
	case dir && !fi.IsDir():
		return fmt.Errorf("%s exists and is not a directory; a partitioned export writes a directory", out)
	case !dir:
		return nil
	}
	entries, err := os.ReadDir(out)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), "year=") {
			return fmt.Errorf("refusing to replace %s: %w (it holds %s, not only year=YYYY directories)", out, ErrNotAnExport, e.Name())
		}
	}
	return nil
}

// replaceDir moves dir to out, moving a previous out aside to old first and
// back if the move fails.
func replaceDir(dir, out, old string) error {
	_, err := os.Stat(out)
	if errors.Is(err, fs.ErrNotExist) {
		return os.Rename(dir, out)
	}
	if err := os.Rename(out, old); err != nil {
		return err
	}
	if err := os.Rename(dir, out); err != nil {
		return errors.Join(err, os.Rename(old, out))
	}
	return nil
}

func countFiles(dir string) (int, error) {
	n := 0
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return err
	})
	return n, err
}

// partition is an open Parquet file of one month.
type partition struct {
	f  *os.File
	bt *batcher
	fw *pqarrow.FileWriter
}

// writePartitioned writes the result of plan to dir/year=YYYY/month=MM/data_0.parquet
// by the month of column col.
func writePartitioned(ctx context.Context, db *engine.DB, plan *engine.Plan, dir string, col int, c engine.Compression) (rows int64, err error) {
	parts := map[string]*partition{}
	defer func() {
		for _, p := range parts {
			p.bt.release()
			p.f.Close()
		}
	}()
	flush := func(p *partition) error {
		rec := p.bt.batch()
		defer rec.Release()
		return p.fw.Write(rec)
	}
	err = db.Query(ctx, plan, func(vals []any) error {
		t, ok := vals[col].(time.Time)
		if !ok {
			return fmt.Errorf("row %d: TimeGenerated is null; cannot partition it by month", rows+1)
		}
		key := fmt.Sprintf("year=%04d/month=%02d", t.Year(), int(t.Month()))
		p := parts[key]
		if p == nil {
			if err := os.MkdirAll(filepath.Join(dir, key), 0o755); err != nil {
				return err
			}
			f, err := os.Create(filepath.Join(dir, key, "data_0.parquet"))
			if err != nil {
				return err
			}
			fw, err := newParquetWriter(f, plan.Columns, c)
			if err != nil {
				f.Close()
				return err
			}
			p = &partition{f: f, fw: fw, bt: newBatcher(plan.Columns, true)}
			parts[key] = p
		}
		if err := p.bt.add(vals); err != nil {
			return err
		}
		rows++
		if p.bt.full() {
			return flush(p)
		}
		return nil
	})
	for key, p := range parts {
		if err == nil && p.bt.n > 0 {
			err = flush(p)
		}
		if cerr := p.fw.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("write %s: %w", key, cerr)
		}
		if cerr := p.f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("write %s: %w", key, cerr)
		}
	}
	if err != nil {
		return rows, fmt.Errorf("write parquet: %w", err)
	}
	return rows, nil
}
