package engine

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
)

// Compression is a Parquet compression codec.
type Compression string

// The codecs socq writes.
const (
	Zstd         Compression = "zstd"
	Snappy       Compression = "snappy"
	Uncompressed Compression = "none"
)

// ParseCompression checks a codec name given by a user ("" is zstd).
func ParseCompression(name string) (Compression, error) {
	c := Compression(name)
	_, err := c.duckDB()
	return c, err
}

// duckDB returns DuckDB's name of the codec.
func (c Compression) duckDB() (string, error) {
	switch c {
	case Zstd, "":
		return "zstd", nil
	case Snappy:
		return "snappy", nil
	case Uncompressed:
		return "uncompressed", nil
	}
	return "", fmt.Errorf("unknown compression %q (use zstd, snappy or none)", string(c))
}

// CopyOptions say how CopyParquet writes.
type CopyOptions struct {
	Compression Compression
	// PartitionBy names columns of the query to write hive-style
	// directories by (col=value/...). The columns are not repeated inside
	// the files. With none, the result is one file.
	PartitionBy []string
}

// CopyParquet writes the result of query, one of the export queries of this
// package (ExportSQL), as Parquet through DuckDB's COPY ... (FORMAT parquet)
// to dest: a file, or with PartitionBy a directory to create. dest must lie
// in the directory the database was opened with as Options.WriteDir; DuckDB
// may write nowhere else. It returns the number of rows written.
func (db *DB) CopyParquet(ctx context.Context, query, dest string, opts CopyOptions) (int64, error) {
	codec, err := opts.Compression.duckDB()
	if err != nil {
		return 0, err
	}
	with := []string{"FORMAT parquet", "COMPRESSION " + codec}
	if len(opts.PartitionBy) > 0 {
		cols := make([]string, len(opts.PartitionBy))
		for i, c := range opts.PartitionBy {
			cols[i] = QuoteIdent(c)
		}
		with = append(with, "PARTITION_BY ("+strings.Join(cols, ", ")+")")
	}
	stmt := "COPY (" + query + ") TO " + QuoteString(filepath.Clean(dest)) + " (" + strings.Join(with, ", ") + ")"
	n, err := db.Exec(ctx, stmt)
	if err != nil {
		return 0, fmt.Errorf("write parquet %s: %w", dest, err)
	}
	return n, nil
}

// Export tables: the names socq export accepts for --table.
const (
	ExportSecurityIncident = SecurityIncidentTable
	ExportTasks            = "tasks"
)

// MonthPartitions are the columns ExportSQL adds when partitioned by month:
// year (YYYY) and month (MM) of TimeGenerated, as text so that directory
// names are zero-padded (year=2026/month=09).
var MonthPartitions = []string{"year", "month"}

// identitySQL is the shape of createdBy, lastModifiedBy and a comment's
// author.
const identityShape = `{"objectId":"VARCHAR","email":"VARCHAR","name":"VARCHAR","userPrincipalName":"VARCHAR"}`

// nestedShapes are the dynamic columns of SecurityIncident whose shape
// Sentinel documents, as from_json structures: they export as typed nested
// Parquet columns. The other dynamic columns (AdditionalData) vary and
// export as JSON text. A value that does not fit its shape keeps what fits:
// unknown keys are dropped, a missing key or a timestamp that does not parse
// is null, a number or object where text is expected is kept as its JSON
// text, and a value of the wrong kind (an object where a list belongs) is
// null. socq export --query exports any column as JSON text instead.
var nestedShapes = map[string]string{
	"Owner": `{"objectId":"VARCHAR","email":"VARCHAR","assignedTo":"VARCHAR","userPrincipalName":"VARCHAR","ownerType":"VARCHAR"}`,
	"Tasks": `[{"taskId":"VARCHAR","title":"VARCHAR","description":"VARCHAR","status":"VARCHAR",` +
		`"createdTimeUtc":"TIMESTAMPTZ","lastModifiedTimeUtc":"TIMESTAMPTZ","lastCompletedTimeUtc":"TIMESTAMPTZ",` +
		`"createdBy":` + identityShape + `,"lastModifiedBy":` + identityShape + `}]`,
	"Labels":                 `[{"labelName":"VARCHAR","labelType":"VARCHAR"}]`,
	"Comments":               `[{"message":"VARCHAR","createdTimeUtc":"TIMESTAMPTZ","lastModifiedTimeUtc":"TIMESTAMPTZ","author":` + identityShape + `}]`,
	"RelatedAnalyticRuleIds": `["VARCHAR"]`,
	"AlertIds":               `["VARCHAR"]`,
	"BookmarkIds":            `["VARCHAR"]`,
}

// exportColumnSQL converts a stored column to its export type: datetimes to
// TIMESTAMPTZ (microseconds, UTC), dynamic columns of a known shape to
// nested types, other dynamic columns to JSON text.
func exportColumnSQL(c Column) string {
	id := QuoteIdent(c.Name)
	switch c.Type {
	case DateTime:
		return "CAST(" + id + " AS TIMESTAMPTZ)"
	case Dynamic:
		if shape, ok := nestedShapes[c.Name]; ok {
			return "from_json(" + id + ", " + QuoteString(shape) + ")"
		}
		return "CAST(" + id + " AS VARCHAR)"
	}
	return id
}

// monthPartitionSQL are the year and month columns of MonthPartitions.
func monthPartitionSQL(timeColumn string) string {
	t := QuoteIdent(timeColumn)
	return "strftime(" + t + ", '%Y') AS year, strftime(" + t + ", '%m') AS month"
}

// ExportSQL is the query socq export writes for a table: SecurityIncident
// with typed nested columns, in load order, or the task audit table (tasks):
// TaskChangesSQL's rows, one per task per snapshot it appears in with what
// changed for it, and TaskChangeColumns' columns, datetimes as TIMESTAMPTZ.
// With byMonth it adds the MonthPartitions columns, from the snapshot's
// TimeGenerated.
func ExportSQL(table string, byMonth bool) (string, error) {
	switch table {
	case ExportTasks:
		cols := TaskChangeColumns()
		sel := make([]string, len(cols))
		for i, c := range cols {
			sel[i] = exportColumnSQL(c) + " AS " + QuoteIdent(c.Name)
		}
		list := strings.Join(sel, ",\n  ")
		if byMonth {
			list += ",\n  " + monthPartitionSQL("TimeGenerated")
		}
		return "SELECT\n  " + list + "\nFROM (\n" + TaskChangesSQL() + "\n) AS socq_task_audit", nil
	case ExportSecurityIncident:
		t := SecurityIncident()
		cols := make([]string, len(t.Columns))
		for i, c := range t.Columns {
			cols[i] = exportColumnSQL(c) + " AS " + QuoteIdent(c.Name)
		}
		sel := strings.Join(cols, ",\n  ")
		if byMonth {
			sel += ",\n  " + monthPartitionSQL("TimeGenerated")
		}
		return "SELECT\n  " + sel + "\nFROM " + QuoteIdent(t.Name), nil
	}
	return "", fmt.Errorf("no table %q to export (use %s or %s)", table, ExportSecurityIncident, ExportTasks)
}
