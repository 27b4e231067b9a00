package ingest

import (
	"bytes"
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"

	"github.com/socq/socq/engine"
)

// loader loads inputs into one open database.
type loader struct {
	db *engine.DB
	t  *target
}

// outcome is what loading one input did.
type outcome struct {
	summary  FileSummary
	rejects  []Reject
	warnings []string
	// ordinals holds, for a file DuckDB read, the record ordinal of each
	// reject: DuckDB does not know lines, so locate finds them.
	ordinals []int64
}

// source is an input as DuckDB reads it.
type source struct {
	relation relation
	// columns lists the input's column names: its header's, or the keys of
	// its JSON objects.
	columns func(ctx context.Context, tx *engine.Tx) ([]string, error)
}

// fixedColumns is the columns function of an input with a header.
func fixedColumns(names []string) func(context.Context, *engine.Tx) ([]string, error) {
	return func(context.Context, *engine.Tx) ([]string, error) { return names, nil }
}

// objectKeys is the columns function of JSON objects Go split into
// ingest_records.
func objectKeys(ctx context.Context, tx *engine.Tx) ([]string, error) {
	return queryStrings(ctx, tx, recordKeysSQL)
}

// fileObjectKeys is the columns function of a file of JSON objects: see
// objectFileKeys.
func fileObjectKeys(q objectFileKeys) func(context.Context, *engine.Tx) ([]string, error) {
	return func(ctx context.Context, tx *engine.Tx) ([]string, error) {
		rows, err := tx.Query(ctx, q.sample)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		var lists [][]any
		for rows.Next() {
			var keys []any
			if err := rows.Scan(&keys); err != nil {
				return nil, err
			}
			lists = append(lists, keys)
		}
		if err := rows.Err(); err != nil {
			return nil, err
		}
		if len(lists) != 1 {
			return queryStrings(ctx, tx, q.all)
		}
		keys := make([]string, len(lists[0]))
		for i, k := range lists[0] {
			keys[i], _ = k.(string)
		}
		return keys, nil
	}
}

// unparsedError says DuckDB could not read a file; Go then splits it.
type unparsedError struct{ err error }

func (e *unparsedError) Error() string { return "DuckDB cannot parse the file: " + e.err.Error() }
func (e *unparsedError) Unwrap() error { return e.err }

// loadFile loads an input file. DuckDB reads it; if DuckDB cannot parse it
// (a malformed record), Go splits it into records, rejects those it cannot
// read and hands the others to DuckDB.
func (l *loader) loadFile(ctx context.Context, in *input) (outcome, error) {
	out, err := l.loadParsed(ctx, in)
	var unparsed *unparsedError
	if !errors.As(err, &unparsed) || ctx.Err() != nil {
		return out, err
	}
	f, err := os.Open(in.path)
	if err != nil {
		return outcome{summary: FileSummary{Name: in.name, Format: in.format}}, err
	}
	defer f.Close()
	return l.loadRecords(ctx, in.name, in.format, f)
}

// fileSource is how DuckDB reads an input file; false when it cannot.
func (l *loader) fileSource(in *input) (source, bool) {
	if !in.ends {
		return source{}, false
	}
	switch in.format {
	case NDJSON, JSONArray:
		format := "newline_delimited"
		if in.format == JSONArray {
			format = "array"
		}
		return source{
			relation: objectFile(l.t, in.path, format),
			columns:  fileObjectKeys(l.t.objectFileKeys(in.path, format)),
		}, true
	case APIResponse:
		// A response whose columns follow its rows has no header up front.
		return source{relation: apiResponseFile(l.t, in.path, in.columns), columns: fixedColumns(in.columns)}, in.columns != nil
	case CSV:
		return source{relation: csvFile(l.t, in.path, in.columns), columns: fixedColumns(in.columns)}, true
	}
	return source{}, false
}

// loadParsed loads a file DuckDB reads itself, the fast path.
func (l *loader) loadParsed(ctx context.Context, in *input) (outcome, error) {
	src, ok := l.fileSource(in)
	if !ok {
		return outcome{}, &unparsedError{fmt.Errorf("%v not read by DuckDB", in.format)}
	}
	var out outcome
	err := l.db.Tx(ctx, func(tx *engine.Tx) error {
		var err error
		out, err = l.finish(ctx, tx, in.name, src)
		return err
	})
	out.summary.Name, out.summary.Format = in.name, in.format
	if err != nil {
		// DuckDB may find a fault only when it reads every column (an
		// object with a duplicate key fails the insert, not the check):
		// the transaction is rolled back, and Go splits the file instead.
		var unparsed *unparsedError
		if !errors.As(err, &unparsed) && ctx.Err() == nil {
			err = &unparsedError{err}
		}
		return out, err
	}
	return out, locate(in, &out)
}

// loadRecords loads an input that Go splits into records: a reader, or a
// file DuckDB cannot parse. The records go to DuckDB in batches.
func (l *loader) loadRecords(ctx context.Context, name string, format Format, r io.Reader) (outcome, error) {
	var out outcome
	err := l.db.Tx(ctx, func(tx *engine.Tx) error {
		if _, err := tx.Exec(ctx, createRecordsSQL); err != nil {
			return err
		}
		var unread []Reject // records Go cannot read
		b := &batch{}
		var flushErr error
		names, err := scannerFor(format)(r, func(rec record) bool {
			if err := readable(rec); err != nil {
				unread = append(unread, Reject{File: name, Line: rec.line, Reason: err.Error(), Raw: string(rec.raw)})
				return true
			}
			if b.add(rec) {
				flushErr = b.flush(ctx, tx)
			}
			return flushErr == nil
		})
		if err = errors.Join(err, flushErr); err == nil {
			err = b.flush(ctx, tx)
		}
		if err != nil {
			return err
		}
		src := source{relation: objectRecords(l.t), columns: objectKeys}
		if format == CSV || format == APIResponse {
			columns, err := columnNames(l.t, format, names)
			if err != nil {
				return err
			}
			src = source{relation: arrayRecords(l.t, columns), columns: fixedColumns(columns)}
		}
		if out, err = l.finish(ctx, tx, name, src); err != nil {
			return err
		}
		out.rejects = append(unread, out.rejects...)
		slices.SortStableFunc(out.rejects, func(a, b Reject) int { return cmp.Compare(a.Line, b.Line) })
		out.summary.Read += len(unread)
		out.summary.Rejected += len(unread)
		return nil
	})
	out.summary.Name, out.summary.Format = name, format
	return out, err
}

// finish loads an input DuckDB reads through src. A first pass checks every
// record into ingest_check: rejects, keys. A second pass inserts the good
// rows with new keys; only when a key repeats in the input does it keep the
// converted input in ingest_stage, to add the first row of each key.
func (l *loader) finish(ctx context.Context, tx *engine.Tx, name string, src source) (outcome, error) {
	out := outcome{summary: FileSummary{Name: name}}
	if _, err := tx.Exec(ctx, l.t.checkSQL(src.relation)); err != nil {
		return out, &unparsedError{err}
	}
	columns, err := src.columns(ctx, tx)
	if err != nil {
		return out, &unparsedError{fmt.Errorf("list columns: %w", err)}
	}
	out.warnings = unknownColumns(l.t, name, columns)
	if out.rejects, out.ordinals, err = queryRejects(ctx, tx, name); err != nil {
		return out, fmt.Errorf("list rejects: %w", err)
	}

	var total, good, keys int
	if err := scanOne(ctx, tx, l.t.countsSQL(), &total, &good, &keys); err != nil {
		return out, fmt.Errorf("count records: %w", err)
	}
	insert := l.t.insertSQL(l.t.convertedSQL(src.relation), false)
	if keys < good {
		if _, err := tx.Exec(ctx, l.t.stageSQL(src.relation)); err != nil {
			return out, fmt.Errorf("stage: %w", err)
		}
		insert = l.t.insertSQL("SELECT rowid, * FROM ingest_stage", true)
	}
	added, err := tx.Exec(ctx, insert)
	if err != nil {
		return out, fmt.Errorf("insert: %w", err)
	}
	for _, table := range tempTables() {
		if _, err := tx.Exec(ctx, "DROP TABLE IF EXISTS "+table); err != nil {
			return out, err
		}
	}
	out.summary.Read = total
	out.summary.Added = int(added)
	out.summary.AlreadyPresent = good - int(added)
	out.summary.Rejected = total - good
	return out, nil
}

// queryRejects lists the rejects of ingest_check, and the ordinals of those
// whose lines are not known.
func queryRejects(ctx context.Context, tx *engine.Tx, name string) ([]Reject, []int64, error) {
	rows, err := tx.Query(ctx, rejectsSQL)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	var rejects []Reject
	var ordinals []int64
	for rows.Next() {
		var ordinal int64
		var line sql.NullInt64
		var raw sql.NullString
		rej := Reject{File: name}
		if err := rows.Scan(&ordinal, &line, &raw, &rej.Reason); err != nil {
			return nil, nil, err
		}
		rej.Line, rej.Raw = int(line.Int64), raw.String
		if !line.Valid {
			ordinals = append(ordinals, ordinal)
		}
		rejects = append(rejects, rej)
	}
	return rejects, ordinals, rows.Err()
}

// unknownColumns warns once about each column name the table lacks.
func unknownColumns(t *target, name string, columns []string) []string {
	var unknown []string
	seen := map[string]bool{}
	for _, c := range columns {
		if !t.has(c) && !seen[c] {
			seen[c] = true
			unknown = append(unknown, c)
		}
	}
	slices.Sort(unknown)
	warnings := make([]string, len(unknown))
	for i, c := range unknown {
		warnings[i] = fmt.Sprintf("%s: unknown column '%s' ignored", name, c)
	}
	return warnings
}

// locate finds the lines and text of the rejected records of a file DuckDB
// read, which knows them only by ordinal, by splitting the file in Go.
func locate(in *input, out *outcome) error {
	if len(out.ordinals) == 0 {
		return nil
	}
	f, err := os.Open(in.path)
	if err != nil {
		return err
	}
	defer f.Close()
	var ordinal int64
	next := 0
	_, err = scannerFor(in.format)(f, func(rec record) bool {
		if ordinal == out.ordinals[next] {
			out.rejects[next].Line = rec.line
			out.rejects[next].Raw = string(rec.raw)
			next++
		}
		ordinal++
		return next < len(out.ordinals)
	})
	if err == nil && next < len(out.ordinals) {
		err = fmt.Errorf("record %d not found", out.ordinals[next])
	}
	if err != nil {
		return fmt.Errorf("find the lines of rejected records: %w", err)
	}
	out.ordinals = nil
	return nil
}

// batchBytes is about how much record text goes to DuckDB per statement.
const batchBytes = 4 << 20

// batch collects records for DuckDB, which takes them as three lists.
type batch struct {
	lines   []int64
	raws    []string // "" when the record's text is its JSON
	records []string
	size    int
}

// add adds rec and reports whether the batch is full.
func (b *batch) add(rec record) bool {
	raw := ""
	if !bytes.Equal(rec.raw, rec.json) {
		raw = string(rec.raw)
	}
	b.lines = append(b.lines, int64(rec.line))
	b.raws = append(b.raws, raw)
	b.records = append(b.records, string(rec.json))
	b.size += len(raw) + len(rec.json)
	return b.size >= batchBytes
}

func (b *batch) flush(ctx context.Context, tx *engine.Tx) error {
	if len(b.lines) == 0 {
		return nil
	}
	if _, err := tx.Exec(ctx, appendRecordsSQL, b.lines, b.raws, b.records); err != nil {
		return fmt.Errorf("hand records to DuckDB: %w", err)
	}
	*b = batch{}
	return nil
}

func queryStrings(ctx context.Context, tx *engine.Tx, query string) ([]string, error) {
	rows, err := tx.Query(ctx, query)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

func scanOne(ctx context.Context, tx *engine.Tx, query string, dest ...any) error {
	rows, err := tx.Query(ctx, query)
	if err != nil {
		return err
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return err
		}
		return sql.ErrNoRows
	}
	if err := rows.Scan(dest...); err != nil {
		return err
	}
	return rows.Close()
}
