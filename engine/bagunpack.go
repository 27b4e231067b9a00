package engine

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/socq/socq/parser"
)

// evaluate runs a plugin. socq knows bag_unpack.
func (c *compiler) evaluate(op *parser.Evaluate, in *scope) (*scope, error) {
	switch op.Plugin.Name {
	case "bag_unpack":
		return c.bagUnpack(op, in)
	case "pivot":
		return c.pivot(op, in)
	}
	return nil, parser.Errorf(op.Plugin.Span(), "the plugin '%s' is not supported by socq yet", op.Plugin.Name).
		WithHint("socq's evaluate knows bag_unpack and pivot")
}

// bagUnpackArgs are bag_unpack's parameters, positional or named.
type bagUnpackArgs struct {
	column   *parser.Ident
	prefix   string
	conflict string // error, replace_source or keep_source
	ignored  map[string]bool
}

var bagUnpackParams = []string{"Column", "OutputColumnPrefix", "columnsConflict", "ignoredProperties"}

func (c *compiler) bagUnpackArgs(op *parser.Evaluate, in *scope) (*bagUnpackArgs, error) {
	a := &bagUnpackArgs{conflict: "error", ignored: map[string]bool{}}
	for i, arg := range op.Args {
		param := ""
		switch {
		case arg.Name != nil:
			param = arg.Name.Name
		case i < len(bagUnpackParams):
			param = bagUnpackParams[i]
		default:
			return nil, parser.Errorf(arg.Span(), "bag_unpack takes at most %d arguments", len(bagUnpackParams))
		}
		if param == "Column" {
			id, ok := unparen(arg.Expr).(*parser.Ident)
			if !ok {
				return nil, parser.Errorf(arg.Expr.Span(), "bag_unpack unpacks a column: name it")
			}
			a.column = id
			continue
		}
		x, err := c.expr(arg.Expr, in)
		if err != nil {
			return nil, err
		}
		switch param {
		case "OutputColumnPrefix", "columnsConflict":
			if x.lit == nil || x.lit.Kind != parser.StringLit {
				return nil, parser.Errorf(arg.Expr.Span(), "%s must be a string literal", param)
			}
			if param == "OutputColumnPrefix" {
				a.prefix = x.lit.Str
				continue
			}
			switch x.lit.Str {
			case "error", "replace_source", "keep_source":
				a.conflict = x.lit.Str
			default:
				return nil, parser.Errorf(arg.Expr.Span(), "columnsConflict must be 'error', 'replace_source' or 'keep_source'")
			}
		case "ignoredProperties":
			if x.lit == nil || x.lit.Kind != parser.DynamicLit || x.lit.Null {
				return nil, parser.Errorf(arg.Expr.Span(), "ignoredProperties must be a dynamic array of names")
			}
			names, err := decodeJSONArray(x.lit.Str)
			if err != nil {
				return nil, parser.Errorf(arg.Expr.Span(), "%v", err)
			}
			for _, n := range names {
				s, ok := n.(string)
				if !ok {
					return nil, parser.Errorf(arg.Expr.Span(), "ignoredProperties must hold names (strings)")
				}
				a.ignored[s] = true
			}
		default:
			return nil, parser.Errorf(arg.Name.Span(), "bag_unpack has no parameter '%s' (it has %s)", param, strings.Join(bagUnpackParams, ", "))
		}
	}
	if a.column == nil {
		return nil, parser.Errorf(op.Span(), "bag_unpack needs the column to unpack")
	}
	return a, nil
}

// bagUnpack turns each top-level key of a dynamic column's bags into a
// column, as the bag_unpack plugin does: the unpacked column is removed, the
// new columns are appended in key order, each typed by its values (string,
// long, real or bool when all non-null values agree, dynamic otherwise), and
// a key that names an existing column is an error unless columnsConflict
// says otherwise. Which keys exist depends on the data, so the compiler asks
// the database (CompileOptions.Probe) for the keys and their JSON types.
func (c *compiler) bagUnpack(op *parser.Evaluate, in *scope) (*scope, error) {
	args, err := c.bagUnpackArgs(op, in)
	if err != nil {
		return nil, err
	}
	src, ok := in.lookup(args.column.Name)
	if !ok {
		return nil, unknownColumn(args.column, in)
	}
	if src.Type != Dynamic {
		return nil, parser.Errorf(args.column.Span(), "bag_unpack needs a dynamic column, but '%s' is a %s", src.Name, src.Type)
	}
	if c.opts.Probe == nil {
		return nil, parser.Errorf(op.Span(), "bag_unpack's columns depend on the data: it needs a database to compile against")
	}
	all := in.cols
	staged := c.stageInput(in, src.Name)
	if staged != nil {
		in = staged
	}
	col := QuoteIdent(src.sql)
	rows, err := c.bagKeys(in.from, col, staged != nil)
	if err != nil {
		return nil, parser.Errorf(op.Span(), "bag_unpack could not read the keys of '%s': %v", src.Name, err)
	}
	type slot struct {
		key string
		t   Type
	}
	var slots []slot
	for _, r := range rows {
		key, _ := r[0].(string)
		if args.ignored[key] {
			continue
		}
		if key == "" && args.prefix == "" {
			return nil, parser.Errorf(op.Span(), "bag_unpack: a bag of '%s' has an empty key, which cannot name a column", src.Name).
				WithHint("give an OutputColumnPrefix, or ignoredProperties=dynamic([\"\"])")
		}
		var types []string
		if list, ok := r[1].([]any); ok {
			for _, t := range list {
				if s, ok := t.(string); ok && s != "NULL" {
					types = append(types, s)
				}
			}
		}
		slots = append(slots, slot{key, slotType(types)})
	}
	sort.Slice(slots, func(i, j int) bool { return slots[i].key < slots[j].key })

	// One json_extract of every key reads each bag once (a json_extract
	// per key would parse it once per key).
	paths := make([]string, len(slots))
	for i, sl := range slots {
		paths[i] = jsonPointer(sl.key)
	}
	bagID := freshSQLName("_bag", in, func(string) bool { return false })
	bag := QuoteIdent(bagID)
	cols := slices.DeleteFunc(c.passThrough(in, len(slots)), func(p projection) bool { return p.Name == src.Name })
	for i, sl := range slots {
		name := args.prefix + sl.key
		value := unpackedValue(bag+"["+strconv.Itoa(i+1)+"]", sl.t)
		// A staged input lacks the columns nobody reads later; a key may
		// still collide with one.
		if args.conflict == "error" && name != src.Name && slices.ContainsFunc(all, func(sc scopeColumn) bool { return sc.Name == name }) {
			return nil, parser.Errorf(op.Span(), "bag_unpack: the key '%s' of '%s' collides with the column '%s'", sl.key, src.Name, name).
				WithHint("pass columnsConflict='replace_source' or 'keep_source', or an OutputColumnPrefix")
		}
		if i := indexOf(cols, name); i >= 0 {
			if args.conflict == "replace_source" {
				cols[i] = projection{Column{name, sl.t}, value}
			}
			continue
		}
		cols = append(cols, projection{Column{name, sl.t}, value})
	}
	if len(cols) == 0 {
		// Kusto's table then has its rows but no columns; later operators
		// may add some (extend x = column_ifexists("x", …), as the Incident
		// Tasks workbook does). DuckDB needs a column: a placeholder that no
		// KQL name reaches.
		return &scope{from: c.addCTE("SELECT NULL AS \"_socq_no_columns\"\nFROM " + in.from)}, nil
	}
	if len(slots) > 0 {
		hidden := append(slices.Clip(in.hidden), bagID)
		in = in.over(c.addCTE("SELECT *, json_extract(" + col + ", [" + strings.Join(paths, ", ") + "]) AS " + bag + "\nFROM " + in.from))
		in.hidden = hidden
	}
	return c.emitProjection(cols, in, "")
}

// bagKeys asks the database for the top-level keys of the bags in column
// col of from, each with the list of its values' JSON types (probedJSONType).
// From a staged table it reads the keys and then their values with one
// json_extract of every key, which is quicker than json_each's row per
// key; otherwise each question would run the pipeline before bag_unpack
// again, so it asks once, through json_each.
func (c *compiler) bagKeys(from, col string, staged bool) ([][]any, error) {
	objects := "\nWHERE json_type(" + from + "." + col + ") = 'OBJECT'"
	if !staged {
		t := probedJSONType("e.type", "e.value")
		return c.opts.Probe(c.probeSQL("\nSELECT e.key, list(DISTINCT " + t + " ORDER BY " + t + ")" +
			"\nFROM " + from + ", json_each(" + from + "." + col + ") AS e" + objects + "\nGROUP BY e.key"))
	}
	bags := "\nFROM " + from + objects
	rows, err := c.opts.Probe(c.probeSQL("\nSELECT DISTINCT unnest(json_keys(" + col + ")) AS k" + bags + "\nORDER BY k"))
	if err != nil || len(rows) == 0 {
		return nil, err
	}
	paths := make([]string, len(rows))
	types := make([]string, len(rows))
	for i, r := range rows {
		key, _ := r[0].(string)
		paths[i] = jsonPointer(key)
		v := "v[" + strconv.Itoa(i+1) + "]"
		t := probedJSONType("json_type("+v+")", v)
		types[i] = "list(DISTINCT " + t + " ORDER BY " + t + ")"
	}
	lists, err := c.opts.Probe(c.probeSQL("\nSELECT " + strings.Join(types, ", ") + "\nFROM (SELECT json_extract(" + col + ", [" + strings.Join(paths, ", ") + "]) AS v" + bags + ")"))
	if err != nil {
		return nil, err
	}
	if len(lists) != 1 || len(lists[0]) != len(rows) {
		return nil, fmt.Errorf("the types of the keys came back as %d rows", len(lists))
	}
	for i := range rows {
		rows[i] = []any{rows[i][0], lists[0][i]}
	}
	return rows, nil
}

// jsonPointer is the SQL string of the JSON pointer to a top-level key.
func jsonPointer(key string) string {
	return QuoteString("/" + strings.ReplaceAll(strings.ReplaceAll(key, "~", "~0"), "/", "~1"))
}

// isoDateTime matches the ISO 8601 datetimes that Kusto reads out of a
// JSON string into a datetime.
const isoDateTime = `^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?$`

// probedJSONType is the SQL for the JSON type of json_each's element e, with
// strings that hold an ISO 8601 datetime typed DATETIME: "Kusto will parse
// strings as strongly-typed values if they can be parsed as such"
// (scalar-data-types/dynamic), which is why Microsoft's task queries can
// take datetime_diff() of an unpacked createdTimeUtc. Numbers and GUIDs in
// strings stay strings here.
func probedJSONType(jsonType, value string) string {
	return "(CASE WHEN " + jsonType + " = 'VARCHAR' AND regexp_full_match(" + value + " ->> '$', " + QuoteString(isoDateTime) + ") THEN 'DATETIME' ELSE " + jsonType + " END)"
}

// slotType is the KQL type of a slot whose non-null values have these JSON
// types: one type when they agree, dynamic when they differ.
func slotType(jsonTypes []string) Type {
	t := Invalid
	for _, jt := range jsonTypes {
		var k Type
		switch jt {
		case "VARCHAR":
			k = String
		case "BIGINT", "UBIGINT":
			k = Long
		case "DOUBLE":
			k = Real
		case "BOOLEAN":
			k = Bool
		case "DATETIME":
			k = DateTime
		default:
			k = Dynamic
		}
		if t != Invalid && t != k {
			return Dynamic
		}
		t = k
	}
	if t == Invalid {
		return Dynamic // only nulls: Kusto cannot tell either
	}
	return t
}

// unpackedValue reads the JSON value v (a key of a bag) as type t.
func unpackedValue(v string, t Type) string {
	switch t {
	case String:
		return "coalesce(" + jsonText(v) + ", '')"
	case Long:
		return "TRY_CAST(" + v + " AS BIGINT)"
	case Real:
		return "TRY_CAST(" + v + " AS DOUBLE)"
	case Bool:
		return "TRY_CAST(" + v + " AS BOOLEAN)"
	case DateTime:
		return stringToDateTimeSQL(jsonText(v))
	}
	return v
}

// columnIfExists is column_ifexists(name, default): the column if the input
// has it, else the default.
func (c *compiler) columnIfExists(e *parser.Call, sc *scope) (texpr, error) {
	if len(e.Args) != 2 {
		return texpr{}, arityError(e, 2, 2)
	}
	name, ok := unparen(e.Args[0]).(*parser.Literal)
	if !ok || name.Kind != parser.StringLit {
		return texpr{}, parser.Errorf(e.Args[0].Span(), "column_ifexists takes the column name as a string literal")
	}
	if col, ok := sc.lookup(name.Str); ok {
		return texpr{sql: QuoteIdent(col.sql), t: col.Type}, nil
	}
	return c.expr(e.Args[1], sc)
}
