package ingest

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/socq/socq/engine"
)

// This file holds the SQL of a load. Every input, whatever its format and
// whoever splits it into records (DuckDB or Go), is first read as a relation
// of text: one VARCHAR column per table column, named after it (NULL when the
// input lacks the column), plus
//
//	ingest_line   BIGINT   the line the record starts on, when known
//	ingest_raw    VARCHAR  the record as written, when known
//	ingest_fault  VARCHAR  why the whole record is unusable, or NULL
//
// From there one path serves all formats. convertedSQL turns the text into
// the table's types and gives each record a reason it cannot be loaded (an
// empty one if it can). A first pass (checkSQL) keeps just the reasons and
// keys of all records; a second (insertSQL) converts the input again and
// inserts the good rows whose key is new. Reading a file twice costs less
// than keeping all of it in a temporary table.

// target is the table a load writes and how each of its columns is read.
type target struct {
	table *engine.Table
	key   []string // columns identifying a snapshot row
}

// securityIncident is the SecurityIncident table, whose rows are snapshots
// of an incident after a change.
func securityIncident() *target {
	return &target{
		table: engine.SecurityIncident(),
		key:   []string{"IncidentName", "TimeGenerated", "LastModifiedTime"},
	}
}

// has reports whether the table has a column called name (case-sensitive).
func (t *target) has(name string) bool {
	_, ok := t.table.Column(name)
	return ok
}

// conversion turns the text of a value into a column's type. In both
// templates {v} stands for the text (VARCHAR, possibly NULL).
type conversion struct {
	// value is the converted value; blank text is the column's empty value.
	value string
	// failure, when the conversion can fail, explains a non-blank text whose
	// value is NULL; {col} stands for the column name.
	failure string
}

// conversions reads every type the catalog uses. Text that does not parse
// is a reject, never a silent NULL.
func conversions() map[engine.Type]conversion {
	return map[engine.Type]conversion{
		engine.String: {value: `coalesce({v}, '')`},
		// The forms Kusto's todatetime() reads, all seven fractional digits
		// kept; text ending in Z (what Log Analytics writes) takes a fast path.
		// Kusto keeps 100 ns ticks: more digits (which Log Analytics never
		// writes) are cut, as Kusto cuts them.
		engine.DateTime: {
			value: `make_timestamp_ns(epoch_ns(CASE WHEN suffix({v}, 'Z') AND left({v}, 1) BETWEEN '0' AND '9' THEN try_cast({v} AS TIMESTAMP_NS)
			ELSE ` + engine.ParseDateTimeSQL("{v}") + ` END) // 100 * 100)`,
			failure: `'{col}: cannot parse ' || to_json({v}) || ' as a datetime'`,
		},
		engine.Int:  integer("INTEGER", "int"),
		engine.Long: integer("BIGINT", "long"),
		engine.Real: {
			value:   `CASE WHEN trim({v}) <> '' THEN try_cast(trim({v}) AS DOUBLE) END`,
			failure: `'{col}: cannot parse ' || to_json({v}) || ' as a real'`,
		},
		engine.Bool: {
			value: `CASE lower(trim({v})) WHEN 'true' THEN true WHEN '1' THEN true
			WHEN 'false' THEN false WHEN '0' THEN false END`,
			failure: `'{col}: cannot parse ' || to_json({v}) || ' as a bool'`,
		},
		// Dynamic text is JSON, or JSON encoded in a string (which the text of
		// a JSON string already is), or else a plain string. It is stored
		// minified; "", null and JSON null are all NULL.
		engine.Dynamic: {value: `CASE WHEN {v} IN ('', 'null') THEN NULL
		ELSE coalesce(try(json({v})), to_json({v})) END`},
	}
}

// integer reads digits only: a fraction, an exponent or text is a reject.
func integer(sqlType, kql string) conversion {
	digits := `regexp_full_match(trim({v}), '[+-]?[0-9]+')`
	return conversion{
		value: `CASE WHEN ` + digits + ` THEN try_cast(trim({v}) AS ` + sqlType + `) END`,
		failure: `CASE WHEN ` + digits + ` THEN '{col}: ' || trim({v}) || ' is out of range for ` + kql + `'
			ELSE '{col}: cannot parse ' || to_json({v}) || ' as ` + article(kql) + `' END`,
	}
}

// article puts "a" or "an" before word.
func article(word string) string {
	if strings.ContainsRune("aeiou", rune(word[0])) {
		return "an " + word
	}
	return "a " + word
}

// expand fills a conversion template with the SQL of the text v and the
// column name col, which the templates only use inside string literals.
func expand(template, v, col string) string {
	return strings.NewReplacer("{v}", v, "{col}", strings.ReplaceAll(col, "'", "''")).Replace(template)
}

// relation is how one input is read as text (see the top of the file).
type relation struct {
	from  string // what the SELECT reads: a table function, a subquery
	line  string // SQL for ingest_line
	raw   string // SQL for ingest_raw
	fault string // SQL for ingest_fault
	// value returns the SQL for the text of column name, or "" when the
	// input lacks it.
	value func(name string) string
}

// sql is the relation as a SELECT.
func (r relation) sql(t *target) string {
	var b strings.Builder
	b.WriteString("SELECT ")
	b.WriteString(r.line + " AS ingest_line, " + r.raw + " AS ingest_raw, " + r.fault + " AS ingest_fault")
	for _, c := range t.table.Columns {
		v := r.value(c.Name)
		if v == "" {
			v = "NULL::VARCHAR"
		}
		b.WriteString(",\n  " + v + " AS " + engine.QuoteIdent(c.Name))
	}
	b.WriteString("\nFROM " + r.from)
	return b.String()
}

// When DuckDB reads a file it knows neither the lines nor the text of its
// records: Go finds those of rejected records afterwards (see locate).
const unknownLine, unknownRaw, noFault = "NULL::BIGINT", "NULL::VARCHAR", "NULL::VARCHAR"

// readJSONColumns is the columns argument of read_json (and, with JSON
// quoting, the structure of from_json): every column as VARCHAR, so that a
// JSON string gives its content and any other JSON value its JSON text.
func (t *target) readJSONColumns() string {
	cols := make([]string, len(t.table.Columns))
	for i, c := range t.table.Columns {
		cols[i] = engine.QuoteString(c.Name) + ": 'VARCHAR'"
	}
	return "{" + strings.Join(cols, ", ") + "}"
}

func (t *target) fromJSONStructure() string {
	cols := make([]string, len(t.table.Columns))
	for i, c := range t.table.Columns {
		cols[i] = strconv.Quote(c.Name) + `: "VARCHAR"`
	}
	return "{" + strings.Join(cols, ", ") + "}"
}

// objectFile is DuckDB reading a file of JSON objects: format is
// 'newline_delimited' or 'array'.
func objectFile(t *target, path, format string) relation {
	return relation{
		from: fmt.Sprintf("read_json(%s, format = %s, records = true, auto_detect = false, columns = %s)",
			engine.QuoteString(path), engine.QuoteString(format), t.readJSONColumns()),
		line: unknownLine, raw: unknownRaw, fault: noFault,
		value: engine.QuoteIdent,
	}
}

// keySample is how many JSON objects of a file are read for their keys
// before the file is taken to be uniform.
const keySample = 10000

// objectFileKeys are the queries that find the keys of the JSON objects in
// a file. Reading every object for its keys costs about a third of a load,
// so a sample comes first: when its objects all have the same keys, the
// file is taken to be uniform, as an export of one table is. When they
// differ, every object is read.
type objectFileKeys struct {
	sample string // the distinct key lists of the first keySample objects
	all    string // the keys of all objects that are not the table's columns
}

func (t *target) objectFileKeys(path, format string) objectFileKeys {
	read := fmt.Sprintf(`read_json(%s, format = %s, records = false, auto_detect = false, columns = {'object': 'MAP(VARCHAR, VARCHAR)'})`,
		engine.QuoteString(path), engine.QuoteString(format))
	names := make([]string, len(t.table.Columns))
	for i, c := range t.table.Columns {
		names[i] = engine.QuoteString(c.Name)
	}
	known := "[" + strings.Join(names, ", ") + "]"
	return objectFileKeys{
		sample: fmt.Sprintf(`SELECT DISTINCT map_keys(object) FROM (SELECT object FROM %s LIMIT %d)`, read, keySample),
		// Comparing with the columns in table order spares most objects
		// the costlier test.
		all: fmt.Sprintf(`SELECT DISTINCT unnest(map_keys(object)) FROM %s
WHERE map_keys(object) <> %s AND NOT list_has_all(%s, map_keys(object))`, read, known, known),
	}
}

// objectRecords is DuckDB reading the JSON object records Go split into
// the table ingest_records.
func objectRecords(t *target) relation {
	return relation{
		from: `(SELECT line, raw, json_type,
		CASE WHEN json_type = 'OBJECT' THEN from_json(record, ` + engine.QuoteString(t.fromJSONStructure()) + `) END AS object
	FROM (SELECT line, coalesce(raw, record) AS raw, record,
		CASE WHEN json_valid(record) THEN json_type(record) END AS json_type FROM ingest_records))`,
		line: "line", raw: "raw",
		// Go checked the JSON but for records nested deeper than it reads.
		fault: `CASE WHEN json_type IS NULL THEN 'invalid JSON' WHEN json_type <> 'OBJECT' THEN 'not a JSON object' END`,
		value: func(name string) string { return "object." + engine.QuoteIdent(name) },
	}
}

// rowsRelation reads records that are lists of values in the order of
// columns (API response rows, CSV records): from must yield ingest_line,
// ingest_raw and the values as a VARCHAR list called row_values (NULL when
// the record is not an array). A name the header repeats takes the first
// value.
func rowsRelation(t *target, columns []string, from string) relation {
	index := map[string]int{}
	for i, name := range columns {
		if _, dup := index[name]; !dup {
			index[name] = i
		}
	}
	n := strconv.Itoa(len(columns))
	return relation{
		from: from,
		line: "ingest_line", raw: "ingest_raw",
		fault: `CASE WHEN row_values IS NULL THEN 'not an array of values'
			WHEN len(row_values) <> ` + n + ` THEN 'the record has ' || len(row_values) || ' values, the header has ` + n + `' END`,
		value: func(name string) string {
			if i, ok := index[name]; ok {
				return "row_values[" + strconv.Itoa(i+1) + "]"
			}
			return ""
		},
	}
}

// apiResponseFile is DuckDB reading the rows of a query API response file.
func apiResponseFile(t *target, path string, columns []string) relation {
	return rowsRelation(t, columns, `(SELECT `+unknownLine+` AS ingest_line, `+unknownRaw+` AS ingest_raw,
		unnest(from_json(json_extract(content, '$.tables[0].rows'), '[["VARCHAR"]]')) AS row_values
	FROM read_text(`+engine.QuoteString(path)+`))`)
}

// arrayRecords is DuckDB reading the array records Go split into the table
// ingest_records (API response rows, CSV records).
func arrayRecords(t *target, columns []string) relation {
	return rowsRelation(t, columns, `(SELECT line AS ingest_line, coalesce(raw, record) AS ingest_raw,
		from_json(record, '["VARCHAR"]') AS row_values
	FROM ingest_records)`)
}

// csvFile is DuckDB reading a CSV file with a header row of columns.
func csvFile(t *target, path string, columns []string) relation {
	fields := make([]string, len(columns))
	values := make([]string, len(columns))
	for i := range columns {
		fields[i] = fmt.Sprintf("'c%d': 'VARCHAR'", i)
		values[i] = fmt.Sprintf("c%d", i)
	}
	return rowsRelation(t, columns, fmt.Sprintf(`(SELECT %s AS ingest_line, %s AS ingest_raw, [%s] AS row_values
	FROM read_csv(%s, header = true, auto_detect = false, columns = {%s},
		delim = ',', quote = '"', escape = '"', strict_mode = true, null_padding = false))`,
		unknownLine, unknownRaw, strings.Join(values, ", "), engine.QuoteString(path), strings.Join(fields, ", ")))
}

const createRecordsSQL = `CREATE TEMP TABLE ingest_records (line BIGINT, raw VARCHAR, record VARCHAR)`

// appendRecordsSQL adds a batch of records, given as three lists.
const appendRecordsSQL = `INSERT INTO ingest_records
SELECT unnest($1::BIGINT[]), nullif(unnest($2::VARCHAR[]), ''), unnest($3::VARCHAR[])`

// recordKeysSQL lists the keys of the JSON object records in ingest_records.
const recordKeysSQL = `SELECT DISTINCT unnest(json_keys(record)) FROM ingest_records
WHERE CASE WHEN json_valid(record) THEN json_type(record) END = 'OBJECT'`

// convertedSQL converts the relation to the table's types: it yields the
// table's columns, ingest_line, ingest_raw and ingest_reason, why the row
// cannot be loaded (the empty string for a good row).
func (t *target) convertedSQL(r relation) string {
	convs := conversions()
	var inner, outer, reasons []string
	for i, c := range t.table.Columns {
		conv, ok := convs[c.Type]
		if !ok {
			panic(fmt.Sprintf("ingest: no conversion for %s column %s", c.Type, c.Name))
		}
		col := engine.QuoteIdent(c.Name)
		v := "r." + col
		inner = append(inner, expand(conv.value, v, c.Name)+" AS "+col)
		outer = append(outer, col)
		if conv.failure != "" {
			text := "ingest_text_" + strconv.Itoa(i)
			inner = append(inner, v+" AS "+text)
			reasons = append(reasons, fmt.Sprintf("CASE WHEN %s IS NULL AND trim(%s) <> '' THEN %s END",
				col, text, expand(conv.failure, text, c.Name)))
		}
	}
	return "SELECT ingest_line, ingest_raw,\n  concat_ws('; ', ingest_fault,\n    " +
		strings.Join(reasons, ",\n    ") + ") AS ingest_reason,\n  " +
		strings.Join(outer, ", ") + "\nFROM (\nSELECT ingest_line, ingest_raw, ingest_fault,\n  " +
		strings.Join(inner, ",\n  ") + "\nFROM (" + r.sql(t) + ") AS r\n)"
}

// checkSQL is the first pass over an input: it keeps, for every record, only
// what the load decides on (its line and text when known, the reason it is
// rejected, its key), in input order. DuckDB preserves insertion order, so
// the order of rowids in ingest_check is the order of the records.
func (t *target) checkSQL(r relation) string {
	return "CREATE TEMP TABLE ingest_check AS\nSELECT ingest_line, ingest_raw, ingest_reason, " +
		strings.Join(t.keyColumns(), ", ") + "\nFROM (" + t.convertedSQL(r) + ")"
}

// stageSQL keeps the converted input in input order (of rowids), for inputs
// that hold one key more than once.
func (t *target) stageSQL(r relation) string {
	return "CREATE TEMP TABLE ingest_stage AS\n" + t.convertedSQL(r)
}

// keyColumns are the key's columns, quoted.
func (t *target) keyColumns() []string {
	key := make([]string, len(t.key))
	for i, k := range t.key {
		key[i] = engine.QuoteIdent(k)
	}
	return key
}

// rejectsSQL lists the records that cannot be loaded, with their ordinals,
// in input order. (Rows a transaction adds have rowids from a large base.)
const rejectsSQL = `SELECT ordinal, ingest_line, ingest_raw, ingest_reason
FROM (SELECT row_number() OVER (ORDER BY rowid) - 1 AS ordinal, * FROM ingest_check)
WHERE ingest_reason <> '' ORDER BY ordinal`

// countsSQL counts the records, the good ones and their distinct keys.
func (t *target) countsSQL() string {
	return `SELECT count(*), count(*) FILTER (WHERE ingest_reason = ''),
	(SELECT count(*) FROM (SELECT DISTINCT ` + strings.Join(t.keyColumns(), ", ") + `
		FROM ingest_check WHERE ingest_reason = ''))
FROM ingest_check`
}

// insertSQL adds the good rows of from (a converted input) whose key is not
// in the table. Keys compare with IS NOT DISTINCT FROM: a missing time is a
// value like any other. With firstOnly, from is ingest_stage and only the
// first row of each key is added.
func (t *target) insertSQL(from string, firstOnly bool) string {
	cols := make([]string, len(t.table.Columns))
	for i, c := range t.table.Columns {
		cols[i] = engine.QuoteIdent(c.Name)
	}
	match := make([]string, len(t.key))
	for i, k := range t.key {
		match[i] = "t." + engine.QuoteIdent(k) + " IS NOT DISTINCT FROM s." + engine.QuoteIdent(k)
	}
	list := strings.Join(cols, ", ")
	table := engine.QuoteIdent(t.table.Name)
	sql := "INSERT INTO " + table + " (" + list + ")\nSELECT " + list + "\nFROM (" + from + ") AS s\n" +
		"ANTI JOIN " + table + " AS t ON " + strings.Join(match, " AND ") + "\n" +
		"WHERE ingest_reason = ''"
	if firstOnly {
		sql += "\n  AND s.rowid IN (SELECT min(rowid) FROM ingest_stage WHERE ingest_reason = '' GROUP BY " +
			strings.Join(t.keyColumns(), ", ") + ")"
	}
	return sql
}

// tempTables are the temporary tables of a load, dropped at its end.
func tempTables() []string { return []string{"ingest_check", "ingest_stage", "ingest_records"} }
