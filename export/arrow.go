package export

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/socq/socq/engine"
)

// BatchRows is the number of rows in each Arrow record batch, and so in each
// Parquet row group written from a query result.
const BatchRows = 64 * 1024

// KQLTypeKey is the Arrow field metadata key that holds a column's KQL type
// ("dynamic" tells JSON text from a plain string).
const KQLTypeKey = "kql_type"

// arrowType is the Arrow type of a KQL type: datetimes are UTC timestamps
// and timespans durations, both in microseconds (Kusto's 100 ns ticks are
// truncated), dynamic values JSON text. Parquet has no duration type, so
// for Parquet timespans are int64 microseconds.
func arrowType(t engine.Type, forParquet bool) arrow.DataType {
	switch t {
	case engine.Timespan:
		if forParquet {
			return arrow.PrimitiveTypes.Int64
		}
		return arrow.FixedWidthTypes.Duration_us
	case engine.Bool:
		return arrow.FixedWidthTypes.Boolean
	case engine.Int:
		return arrow.PrimitiveTypes.Int32
	case engine.Long:
		return arrow.PrimitiveTypes.Int64
	case engine.Real:
		return arrow.PrimitiveTypes.Float64
	case engine.DateTime:
		return arrow.FixedWidthTypes.Timestamp_us
	case engine.Null:
		return arrow.Null
	}
	return arrow.BinaryTypes.String // string, dynamic
}

// Schema is the Arrow schema of a query result with columns cols: one field
// per column, named exactly as in KQL (Title and title are two fields), its
// KQL type in the field's metadata (KQLTypeKey). forParquet gives the schema
// written to Parquet, where timespans are int64 microseconds.
func Schema(cols []engine.Column, forParquet bool) *arrow.Schema {
	fields := make([]arrow.Field, len(cols))
	for i, c := range cols {
		fields[i] = arrow.Field{
			Name:     c.Name,
			Type:     arrowType(c.Type, forParquet),
			Nullable: true,
			Metadata: arrow.NewMetadata([]string{KQLTypeKey}, []string{c.Type.String()}),
		}
	}
	return arrow.NewSchema(fields, nil)
}

// batcher collects result rows into Arrow record batches.
type batcher struct {
	cols []engine.Column
	b    *array.RecordBuilder
	n    int
}

func newBatcher(cols []engine.Column, forParquet bool) *batcher {
	return &batcher{cols: cols, b: array.NewRecordBuilder(memory.DefaultAllocator, Schema(cols, forParquet))}
}

// add appends one row of values typed as engine.DB.Query gives them.
func (bt *batcher) add(vals []any) error {
	for i, v := range vals {
		f := bt.b.Field(i)
		if v == nil {
			f.AppendNull()
			continue
		}
		ok := true
		switch b := f.(type) {
		case *array.BooleanBuilder:
			var x bool
			x, ok = v.(bool)
			b.Append(x)
		case *array.Int32Builder:
			var x int64
			x, ok = v.(int64)
			b.Append(int32(x))
		case *array.Int64Builder:
			switch x := v.(type) {
			case int64:
				b.Append(x)
			case time.Duration: // a timespan in Parquet
				b.Append(x.Microseconds())
			default:
				ok = false
			}
		case *array.Float64Builder:
			var x float64
			x, ok = v.(float64)
			b.Append(x)
		case *array.TimestampBuilder:
			var x time.Time
			x, ok = v.(time.Time)
			b.Append(arrow.Timestamp(x.UnixMicro()))
		case *array.DurationBuilder:
			var x time.Duration
			x, ok = v.(time.Duration)
			b.Append(arrow.Duration(x.Microseconds()))
		case *array.StringBuilder:
			switch x := v.(type) {
			case string:
				b.Append(x)
			case json.RawMessage:
				b.Append(string(x))
			default:
				ok = false
			}
		case *array.NullBuilder:
			b.AppendNull()
		default:
			return fmt.Errorf("column %s: no Arrow builder for %T", bt.cols[i].Name, f)
		}
		if !ok {
			return fmt.Errorf("column %s (%s): unexpected value %T", bt.cols[i].Name, bt.cols[i].Type, v)
		}
	}
	bt.n++
	return nil
}

// full reports whether a batch is ready.
func (bt *batcher) full() bool { return bt.n >= BatchRows }

// batch returns the rows collected since the last call; the caller releases it.
func (bt *batcher) batch() arrow.RecordBatch {
	bt.n = 0
	return bt.b.NewRecordBatch()
}

func (bt *batcher) release() { bt.b.Release() }

// recordWriter is where batches go: an Arrow IPC stream or a Parquet file.
type recordWriter interface {
	Write(arrow.RecordBatch) error
	Close() error
}

// bufferedParquet writes batches into row groups of up to BatchRows rows,
// however small the batches (DuckDB's Arrow batches are 2048 rows).
type bufferedParquet struct{ *pqarrow.FileWriter }

func (b bufferedParquet) Write(rec arrow.RecordBatch) error { return b.WriteBuffered(rec) }

// errNotNative is a result whose Arrow types from DuckDB are not the ones
// socq writes; the rows are converted in Go instead.
var errNotNative = errors.New("result types differ from the export types")

// stream runs plan and writes its result to rw: through duckdb-go's Arrow
// interface in a build with the duckdb_arrow tag (engine.ArrowNative),
// else from the result rows in batches of BatchRows.
func stream(ctx context.Context, db *engine.DB, plan *engine.Plan, rw recordWriter, forParquet bool) (int64, error) {
	if engine.ArrowNative {
		n, err := streamNative(ctx, db, plan, rw, forParquet)
		if !errors.Is(err, errNotNative) {
			return n, err
		}
	}
	return streamRows(ctx, db, plan, rw, forParquet)
}

// streamNative writes DuckDB's own Arrow batches, renamed to the KQL names
// and with timespans (BIGINT microseconds) retyped as durations for IPC.
func streamNative(ctx context.Context, db *engine.DB, plan *engine.Plan, rw recordWriter, forParquet bool) (int64, error) {
	target := Schema(plan.Columns, forParquet)
	var rows int64
	err := db.QueryArrow(ctx, plan, func(s *arrow.Schema) error {
		if s.NumFields() != target.NumFields() {
			return errNotNative
		}
		for i, f := range s.Fields() {
			want := target.Field(i).Type
			if !arrow.TypeEqual(f.Type, want) && !(f.Type.ID() == arrow.INT64 && want.ID() == arrow.DURATION) {
				return errNotNative
			}
		}
		return nil
	}, func(rec arrow.RecordBatch) error {
		cols := make([]arrow.Array, rec.NumCols())
		for i, col := range rec.Columns() {
			if want := target.Field(i).Type; !arrow.TypeEqual(col.DataType(), want) {
				d := col.Data()
				nd := array.NewData(want, d.Len(), d.Buffers(), nil, d.NullN(), d.Offset())
				cols[i] = array.MakeFromData(nd)
				nd.Release()
			} else {
				col.Retain()
				cols[i] = col
			}
		}
		out := array.NewRecordBatch(target, cols, rec.NumRows())
		for _, c := range cols {
			c.Release()
		}
		defer out.Release()
		rows += rec.NumRows()
		return rw.Write(out)
	})
	if errors.Is(err, errNotNative) {
		return 0, err
	}
	if err == nil && rows == 0 {
		// An empty result still has a schema, so write one (empty) batch.
		b := array.NewRecordBuilder(memory.DefaultAllocator, target)
		rec := b.NewRecordBatch()
		err = rw.Write(rec)
		rec.Release()
		b.Release()
	}
	if cerr := rw.Close(); err == nil {
		err = cerr
	}
	return rows, err
}

// streamRows runs plan and writes its result to rw in batches of BatchRows
// built from the result rows.
func streamRows(ctx context.Context, db *engine.DB, plan *engine.Plan, rw recordWriter, forParquet bool) (int64, error) {
	bt := newBatcher(plan.Columns, forParquet)
	defer bt.release()
	var rows int64
	write := func() error {
		rec := bt.batch()
		defer rec.Release()
		return rw.Write(rec)
	}
	err := db.Query(ctx, plan, func(vals []any) error {
		if err := bt.add(vals); err != nil {
			return err
		}
		rows++
		if bt.full() {
			return write()
		}
		return nil
	})
	// An empty result still has a schema, so write one (empty) batch.
	if err == nil && (bt.n > 0 || rows == 0) {
		err = write()
	}
	if cerr := rw.Close(); err == nil {
		err = cerr
	}
	return rows, err
}

// WriteArrow runs plan and writes its result to w as an Arrow IPC stream
// (what pyarrow.ipc.open_stream reads). It returns the number of rows.
func WriteArrow(ctx context.Context, db *engine.DB, plan *engine.Plan, w io.Writer) (int64, error) {
	iw := ipc.NewWriter(w, ipc.WithSchema(Schema(plan.Columns, false)))
	n, err := stream(ctx, db, plan, iw, false)
	if err != nil {
		return n, fmt.Errorf("write arrow: %w", err)
	}
	return n, nil
}

// codec maps socq's compression names to arrow-go's.
func codec(c engine.Compression) (compress.Compression, error) {
	switch c {
	case engine.Zstd, "":
		return compress.Codecs.Zstd, nil
	case engine.Snappy:
		return compress.Codecs.Snappy, nil
	case engine.Uncompressed:
		return compress.Codecs.Uncompressed, nil
	}
	return 0, fmt.Errorf("unknown compression %q (use zstd, snappy or none)", string(c))
}

// newParquetWriter starts a Parquet file for a result with columns cols.
// The Arrow schema, with each column's KQL type, is stored in the file.
func newParquetWriter(w io.Writer, cols []engine.Column, c engine.Compression) (*pqarrow.FileWriter, error) {
	cc, err := codec(c)
	if err != nil {
		return nil, err
	}
	props := parquet.NewWriterProperties(parquet.WithCompression(cc), parquet.WithMaxRowGroupLength(BatchRows))
	// pqarrow closes a writer that is an io.Closer; the caller owns w.
	return pqarrow.NewFileWriter(Schema(cols, true), struct{ io.Writer }{w}, props, pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema()))
}

// WriteParquet runs plan and writes its result to w as one Parquet file,
// with column names exactly as in KQL. It returns the number of rows.
func WriteParquet(ctx context.Context, db *engine.DB, plan *engine.Plan, w io.Writer, c engine.Compression) (int64, error) {
	fw, err := newParquetWriter(w, plan.Columns, c)
	if err != nil {
		return 0, fmt.Errorf("write parquet: %w", err)
	}
	n, err := stream(ctx, db, plan, bufferedParquet{fw}, true)
	if err != nil {
		return n, fmt.Errorf("write parquet: %w", err)
	}
	return n, nil
}
