package engine

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/socq/socq/parser"
)

// aggregate is one KQL aggregation function. Its arguments are compiled in
// the input's row scope; compile returns the SQL aggregate over them.
type aggregate struct {
	minArgs, maxArgs int
	// prefix is the default column name's stem: count() → count_,
	// dcount(x) → dcount_x, make_set(x) → set_x.
	prefix  string
	noArg   bool // the default name ignores the argument (count(), countif())
	compile func(call *parser.Call, args []texpr) (texpr, error)
}

// aggregates lists the aggregation functions summarize knows. arg_max and
// arg_min, which yield several columns, are handled by summarize itself.
var aggregates map[string]aggregate

func init() {
	aggregates = map[string]aggregate{
		"count": {minArgs: 0, maxArgs: 1, prefix: "count", compile: func(_ *parser.Call, args []texpr) (texpr, error) {
			if len(args) == 0 {
				return texpr{sql: "count(*)", t: Long}, nil
			}
			return texpr{sql: "count(" + args[0].sql + ")", t: Long}, nil
		}},
		"countif": {minArgs: 1, maxArgs: 1, prefix: "countif", noArg: true, compile: func(call *parser.Call, args []texpr) (texpr, error) {
			p, err := predicateOf(call.Args[0], args[0])
			return texpr{sql: "count(*) FILTER (WHERE " + p + ")", t: Long}, err
		}},
		"dcount": {minArgs: 1, maxArgs: 2, prefix: "dcount", compile: func(_ *parser.Call, args []texpr) (texpr, error) {
			return texpr{sql: "count(DISTINCT " + args[0].sql + ")", t: Long}, nil
		}},
		"dcountif": {minArgs: 2, maxArgs: 3, prefix: "dcountif", compile: func(call *parser.Call, args []texpr) (texpr, error) {
			p, err := predicateOf(call.Args[1], args[1])
			return texpr{sql: "count(DISTINCT " + args[0].sql + ") FILTER (WHERE " + p + ")", t: Long}, err
		}},
		"sum":          {minArgs: 1, maxArgs: 1, prefix: "sum", compile: numericAggregate("sum", "")},
		"sumif":        {minArgs: 2, maxArgs: 2, prefix: "sumif", compile: numericAggregate("sum", "if")},
		"avg":          {minArgs: 1, maxArgs: 1, prefix: "avg", compile: numericAggregate("avg", "")},
		"avgif":        {minArgs: 2, maxArgs: 2, prefix: "avgif", compile: numericAggregate("avg", "if")},
		"min":          {minArgs: 1, maxArgs: 1, prefix: "min", compile: extreme("min")},
		"max":          {minArgs: 1, maxArgs: 1, prefix: "max", compile: extreme("max")},
		"stdev":        {minArgs: 1, maxArgs: 1, prefix: "stdev", compile: spread("stddev_samp", false)},
		"stdevif":      {minArgs: 2, maxArgs: 2, prefix: "stdevif", compile: spread("stddev_samp", true)},
		"variance":     {minArgs: 1, maxArgs: 1, prefix: "variance", compile: spread("var_samp", false)},
		"varianceif":   {minArgs: 2, maxArgs: 2, prefix: "varianceif", compile: spread("var_samp", true)},
		"maxif":        {minArgs: 2, maxArgs: 2, prefix: "maxif", compile: extremeIf("max")},
		"minif":        {minArgs: 2, maxArgs: 2, prefix: "minif", compile: extremeIf("min")},
		"any":          {minArgs: 1, maxArgs: 1, prefix: "any", compile: anyValue},
		"take_any":     {minArgs: 1, maxArgs: 1, prefix: "any", compile: anyValue},
		"make_set":     {minArgs: 1, maxArgs: 2, prefix: "set", compile: makeList(true, false)},
		"make_list":    {minArgs: 1, maxArgs: 2, prefix: "list", compile: makeList(false, false)},
		"makeset":      {minArgs: 1, maxArgs: 2, prefix: "set", compile: makeList(true, false)},
		"makelist":     {minArgs: 1, maxArgs: 2, prefix: "list", compile: makeList(false, false)},
		"make_set_if":  {minArgs: 2, maxArgs: 3, prefix: "set", compile: makeList(true, true)},
		"make_list_if": {minArgs: 2, maxArgs: 3, prefix: "list", compile: makeList(false, true)},
		"percentile":   {minArgs: 2, maxArgs: 2, prefix: "percentile", compile: percentile},
		"make_bag":     {minArgs: 1, maxArgs: 2, prefix: "bag", compile: makeBag},
	}
}

// predicateOf is compiler.predicate for aggregate arguments.
func predicateOf(e parser.Expr, x texpr) (string, error) {
	return (&compiler{}).predicate(e, x)
}

// numericAggregate is sum or avg, optionally with an if-predicate. Integer
// sums are long; averages are real; a timespan sum or average is a timespan.
func numericAggregate(fn, suffix string) func(*parser.Call, []texpr) (texpr, error) {
	return func(call *parser.Call, args []texpr) (texpr, error) {
		x := args[0]
		if x.t == Dynamic {
			x = convert(x, Real)
		}
		filter := ""
		if suffix == "if" {
			p, err := predicateOf(call.Args[1], args[1])
			if err != nil {
				return texpr{}, err
			}
			filter = " FILTER (WHERE " + p + ")"
		}
		agg := fn + "(" + x.sql + ")" + filter
		switch {
		case x.t == Timespan:
			return texpr{sql: "CAST(" + agg + " AS BIGINT)", t: Timespan}, nil
		case fn == "avg" && x.t.numeric():
			return texpr{sql: agg, t: Real}, nil
		case x.t == Int || x.t == Long:
			return texpr{sql: "CAST(" + agg + " AS BIGINT)", t: Long}, nil
		case x.t == Real:
			return texpr{sql: agg, t: Real}, nil
		}
		return texpr{}, parser.Errorf(call.Args[0].Span(), "%s%s() needs a number or timespan, not a %s", fn, suffix, x.t)
	}
}

func extreme(fn string) func(*parser.Call, []texpr) (texpr, error) {
	return func(call *parser.Call, args []texpr) (texpr, error) {
		x := args[0]
		if x.t == Dynamic {
			x = convert(x, Real)
		}
		if x.t == Bool {
			return texpr{}, parser.Errorf(call.Args[0].Span(), "%s() cannot take a bool", fn)
		}
		return texpr{sql: fn + "(" + x.sql + ")", t: x.t}, nil
	}
}

// extremeIf is maxif or minif: max or min over the rows where the
// predicate is true.
func extremeIf(fn string) func(*parser.Call, []texpr) (texpr, error) {
	return func(call *parser.Call, args []texpr) (texpr, error) {
		x, err := extreme(fn)(call, args[:1])
		if err != nil {
			return texpr{}, err
		}
		p, err := predicateOf(call.Args[1], args[1])
		if err != nil {
			return texpr{}, err
		}
		return texpr{sql: x.sql + " FILTER (WHERE " + p + ")", t: x.t}, nil
	}
}

// spread is stdev or variance (and their -if forms): the sample standard
// deviation or variance of a number, the group taken as a sample (n - 1 in
// the denominator), as Kusto's docs give them.
func spread(fn string, withIf bool) func(*parser.Call, []texpr) (texpr, error) {
	return func(call *parser.Call, args []texpr) (texpr, error) {
		x := args[0]
		if x.t == Dynamic {
			x = convert(x, Real)
		}
		if !x.t.numeric() {
			return texpr{}, parser.Errorf(call.Args[0].Span(), "%s() needs a number, not a %s", call.Func.Name, x.t)
		}
		sql := fn + "(" + convert(x, Real).sql + ")"
		if withIf {
			p, err := predicateOf(call.Args[1], args[1])
			if err != nil {
				return texpr{}, err
			}
			sql += " FILTER (WHERE " + p + ")"
		}
		return texpr{sql: sql, t: Real}, nil
	}
}

func anyValue(_ *parser.Call, args []texpr) (texpr, error) {
	return texpr{sql: "any_value(" + args[0].sql + ")", t: args[0].t}, nil
}

// makeList is make_list or make_set (or make_list_if, make_set_if, over the
// rows where the predicate is true): a dynamic array of the non-null values
// (an empty array, not null, for no values). Kusto does not define the order
// of make_set; socq sorts it so results are repeatable.
func makeList(set, withIf bool) func(*parser.Call, []texpr) (texpr, error) {
	return func(call *parser.Call, args []texpr) (texpr, error) {
		x := convert(args[0], Dynamic)
		where := x.sql + " IS NOT NULL"
		size := 1
		if withIf {
			p, err := predicateOf(call.Args[1], args[1])
			if err != nil {
				return texpr{}, err
			}
			where += " AND " + p
			size = 2
		}
		var list string
		switch t := args[0].t; {
		case set && t != Dynamic && t != Null:
			// Sorted by value (numbers as numbers), not by JSON text.
			each := convert(texpr{sql: "socq_v", t: t}, Dynamic).sql
			list = "list_transform(list(DISTINCT " + args[0].sql + " ORDER BY " + args[0].sql + ") FILTER (WHERE " + where + "), lambda socq_v: " + each + ")"
		case set:
			list = "list(DISTINCT " + x.sql + " ORDER BY " + x.sql + ") FILTER (WHERE " + where + ")"
		default:
			list = "list(" + x.sql + ") FILTER (WHERE " + where + ")"
		}
		if len(args) > size {
			n, ok := constLong(args[size])
			if !ok || n < 1 {
				return texpr{}, parser.Errorf(call.Args[size].Span(), "the size limit must be a positive whole number")
			}
			list = fmt.Sprintf("list_slice(%s, 1, %d)", list, n)
		}
		return texpr{sql: "CAST(coalesce(to_json(" + list + "), '[]') AS JSON)", t: Dynamic}, nil
	}
}

// percentile uses the nearest-rank definition: the smallest value such that
// at least P percent of the values are less than or equal to it.
func percentile(call *parser.Call, args []texpr) (texpr, error) {
	x := args[0]
	if x.t == Dynamic {
		x = convert(x, Real)
	}
	p, ok := constReal(args[1])
	if !ok || p < 0 || p > 100 {
		return texpr{}, parser.Errorf(call.Args[1].Span(), "the percentile must be a constant between 0 and 100")
	}
	if !(x.t.numeric() || x.t == DateTime || x.t == Timespan) {
		return texpr{}, parser.Errorf(call.Args[0].Span(), "percentile() needs a number, datetime or timespan, not a %s", x.t)
	}
	sql := fmt.Sprintf("list_sort(list(%s) FILTER (WHERE %s IS NOT NULL))[greatest(1, CAST(ceil(%s / 100.0 * count(%s)) AS BIGINT))]",
		x.sql, x.sql, strconv.FormatFloat(p, 'g', -1, 64), x.sql)
	return texpr{sql: sql, t: x.t}, nil
}

// makeBag merges the property bags of a group into one (non-bags are
// ignored; for a key in several bags any one value wins, as in Kusto).
func makeBag(call *parser.Call, args []texpr) (texpr, error) {
	x := args[0]
	if x.t != Dynamic {
		return texpr{}, parser.Errorf(call.Args[0].Span(), "make_bag() takes a dynamic property bag, not a %s", x.t)
	}
	bags := "list(" + x.sql + ") FILTER (WHERE json_type(" + x.sql + ") = 'OBJECT')"
	return texpr{sql: "CAST(coalesce(list_reduce(" + bags + ", (a, b) -> json_merge_patch(a, b)), '{}') AS JSON)", t: Dynamic}, nil
}

func constLong(x texpr) (int64, bool) {
	if x.lit != nil && !x.lit.Null && (x.lit.Kind == parser.LongLit || x.lit.Kind == parser.IntLit) {
		return x.lit.Int, true
	}
	return 0, false
}

func constReal(x texpr) (float64, bool) {
	if n, ok := constLong(x); ok {
		return float64(n), true
	}
	if x.lit != nil && !x.lit.Null && x.lit.Kind == parser.RealLit {
		return x.lit.Real, true
	}
	return 0, false
}

// aggregateName is the default column name of an unnamed aggregate, as Kusto
// names it: count_, dcount_Title, set_Severity, percentile_x_55.
func aggregateName(call *parser.Call, a aggregate) string {
	if a.noArg || len(call.Args) == 0 {
		return a.prefix + "_"
	}
	name := a.prefix + "_" + columnName(call.Args[0])
	if call.Func.Name == "percentile" {
		if lit, ok := call.Args[1].(*parser.Literal); ok {
			p := lit.String()
			if lit.Kind == parser.RealLit {
				p = strconv.FormatFloat(lit.Real, 'f', -1, 64)
			}
			name += "_" + strings.ReplaceAll(p, ".", "_")
		}
	}
	return name
}

// aggregateCall compiles a call to an aggregation function. It is valid only
// among summarize's aggregates, and aggregates do not nest.
func (c *compiler) aggregateCall(e *parser.Call, a aggregate, sc *scope) (texpr, error) {
	name := e.Func.Name
	switch {
	case !c.aggregating:
		return texpr{}, parser.Errorf(e.Func.Span(), "the aggregation function '%s' can only be used in summarize", name)
	case c.inAggregate:
		return texpr{}, parser.Errorf(e.Func.Span(), "aggregation functions cannot be nested: '%s' is inside another aggregate", name)
	}
	if n := len(e.Args); n < a.minArgs || n > a.maxArgs {
		return texpr{}, arityError(e, a.minArgs, a.maxArgs)
	}
	c.inAggregate = true
	defer func() { c.inAggregate = false }()
	args, err := c.exprs(e.Args, sc)
	if err != nil {
		return texpr{}, err
	}
	return a.compile(e, args)
}

// summarizeColumn is one output column of summarize: an aggregate over the
// input, or a field of an arg_max/arg_min struct.
type summarizeColumn struct {
	Column
	sql     string // the aggregate; "" for a struct field
	struct_ string // the grouped stage's column holding the struct
	field   string // the field of that struct
	pack    string // the field's `fN := expr` in struct_pack
}

func (c *compiler) summarize(op *parser.Summarize, in *scope) (*scope, error) {
	if len(op.Aggs) == 0 && len(op.By) == 0 {
		return nil, parser.Errorf(op.Span(), "summarize needs an aggregate, a by clause, or both")
	}
	names := newNameSet()
	keys, err := c.groupKeys(op.By, in, names)
	if err != nil {
		return nil, err
	}
	if p := c.partition; p != nil { // inside mv-apply: one group set per input row
		names.add(p.Name)
		keys = append([]projection{{p.Column, QuoteIdent(p.sql)}}, keys...)
	}

	var cols []summarizeColumn
	var structs []string // SQL of each arg_max/arg_min struct, _arg1, _arg2, …
	for _, ne := range op.Aggs {
		if call, ok := unparen(ne.Expr).(*parser.Call); ok && call.Func.Name == "percentiles" {
			if ne.Name != nil {
				return nil, parser.Errorf(ne.Name.Span(), "percentiles() makes several columns: name them with project-rename after summarize")
			}
			if len(call.Args) < 2 {
				return nil, arityError(call, 2, 64)
			}
			// percentiles(x, p1, p2, ...) is percentile(x, p1), percentile(x, p2), ...
			for _, p := range call.Args[1:] {
				one := &parser.Call{At: call.At, Func: &parser.Ident{At: call.Func.At, Name: "percentile"}, Args: []parser.Expr{call.Args[0], p}}
				c.aggregating = true
				x, err := c.expr(one, in)
				c.aggregating = false
				if err != nil {
					return nil, err
				}
				name := names.unique(aggregateName(one, aggregates["percentile"]))
				names.add(name)
				cols = append(cols, summarizeColumn{Column: Column{name, x.t}, sql: x.sql})
			}
			continue
		}
		if call, ok := unparen(ne.Expr).(*parser.Call); ok && (call.Func.Name == "arg_max" || call.Func.Name == "arg_min") {
			if ne.Name != nil {
				return nil, parser.Errorf(ne.Name.Span(), "name the columns of %s() with project-rename after summarize", call.Func.Name)
			}
			fields, structSQL, err := c.argExtreme(call, in, names)
			if err != nil {
				return nil, err
			}
			structs = append(structs, structSQL)
			name := argStructName(len(structs) - 1)
			for i := range fields {
				fields[i].struct_ = name
			}
			cols = append(cols, fields...)
			continue
		}
		p, err := c.aggregateColumn(ne, in, names)
		if err != nil {
			return nil, err
		}
		cols = append(cols, summarizeColumn{Column: p.Column, sql: p.sql})
	}

	// Stage 1 groups and aggregates; arg_max/arg_min yield structs that
	// stage 2 unpacks into their columns.
	sqlNames := newSQLNames(len(keys) + len(cols))
	var sel []string
	out := &scope{}
	for _, k := range keys {
		id := sqlNames.assign(k.Name)
		sel = append(sel, k.sql+" AS "+QuoteIdent(id))
		out.cols = append(out.cols, scopeColumn{k.Column, id})
	}
	for _, col := range cols {
		if col.struct_ != "" {
			continue
		}
		id := sqlNames.assign(col.Name)
		sel = append(sel, col.sql+" AS "+QuoteIdent(id))
		out.cols = append(out.cols, scopeColumn{col.Column, id})
	}
	for i, s := range structs {
		sel = append(sel, s+" AS "+QuoteIdent(argStructName(i)))
	}
	body := "SELECT " + strings.Join(sel, ", ") + "\nFROM " + in.from
	if len(keys) > 0 {
		pos := make([]string, len(keys))
		for i := range keys {
			pos[i] = strconv.Itoa(i + 1)
		}
		body += "\nGROUP BY " + strings.Join(pos, ", ")
	}
	grouped := &scope{cols: out.cols, from: c.addCTE(body)}
	if len(structs) == 0 {
		return grouped, nil
	}
	// Output order: keys, then every aggregate column in the order written.
	final := make([]projection, 0, len(keys)+len(cols))
	for _, col := range grouped.cols[:len(keys)] {
		final = append(final, projection{col.Column, QuoteIdent(col.sql)})
	}
	plain := grouped.cols[len(keys):]
	for _, col := range cols {
		if col.struct_ == "" {
			final = append(final, projection{col.Column, QuoteIdent(plain[0].sql)})
			plain = plain[1:]
			continue
		}
		final = append(final, projection{col.Column, QuoteIdent(col.struct_) + "." + QuoteIdent(col.field)})
	}
	groupedIndex := len(c.ctes) - 1
	out, err = c.emitProjection(final, grouped, "")
	if err != nil {
		return nil, err
	}
	// Record each struct so that finish can drop the fields nobody reads.
	// final holds the keys, then one column per entry of cols.
	for i, s := range structs {
		a := argStruct{grouped: groupedIndex, unpacked: len(c.ctes) - 1, sql: s}
		name := argStructName(i)
		for k, col := range cols {
			if col.struct_ != name {
				continue
			}
			j := len(keys) + k
			id := QuoteIdent(out.cols[j].sql)
			a.fields = append(a.fields, argField{pack: col.pack, unpack: final[j].sql + " AS " + id, column: id})
		}
		c.argStructs = append(c.argStructs, a)
	}
	return out, nil
}

// argStructName names the column of summarize's i-th arg_max/arg_min
// struct (0-based) in its grouping stage.
func argStructName(i int) string { return "_arg" + strconv.Itoa(i+1) }

// groupKeys compiles by expressions: named as written, or as Kusto derives
// (bin(T, 1d) keeps T), unique within names.
func (c *compiler) groupKeys(by []*parser.NamedExpr, in *scope, names nameSet) ([]projection, error) {
	var keys []projection
	for _, b := range by {
		x, err := c.expr(b.Expr, in)
		if err != nil {
			return nil, err
		}
		name := columnName(b.Expr)
		if b.Name != nil {
			name = b.Name.Name
		}
		name = names.unique(name)
		names.add(name)
		keys = append(keys, projection{Column{name, x.t}, x.sql})
	}
	return keys, nil
}

// aggregateColumn compiles one aggregate expression and names it: as
// written, else as Kusto names the aggregate (count_, dcount_X), else
// Column1, …; a repeated default name gets a numeric suffix.
func (c *compiler) aggregateColumn(ne *parser.NamedExpr, in *scope, names nameSet) (projection, error) {
	c.aggregating = true
	x, err := c.expr(ne.Expr, in)
	c.aggregating = false
	if err != nil {
		return projection{}, err
	}
	var name string
	if ne.Name != nil {
		name = ne.Name.Name
		if names.has(name) {
			return projection{}, parser.Errorf(ne.Name.Span(), "column '%s' is declared twice", name)
		}
	} else {
		base := ""
		if call, ok := unparen(ne.Expr).(*parser.Call); ok {
			if a, ok := aggregates[call.Func.Name]; ok {
				base = aggregateName(call, a)
			}
		}
		name = names.unique(base)
	}
	names.add(name)
	return projection{Column{name, x.t}, x.sql}, nil
}

// argExtreme compiles arg_max(T, cols...) or arg_min: the row with the
// greatest (least) T, ignoring null T; a column may be named
// (arg_max(T, Rule = Title)). "*" stands for every input column
// not already an output (so "arg_max(T, *) by K" gives K, T, then the
// rest with their own names). One DuckDB arg_max over a struct keeps all
// the columns from the same row.
func (c *compiler) argExtreme(call *parser.Call, in *scope, names nameSet) ([]summarizeColumn, string, error) {
	if len(call.Args) < 1 {
		return nil, "", arityError(call, 1, 64)
	}
	if _, star := call.Args[0].(*parser.Star); star {
		return nil, "", parser.Errorf(call.Args[0].Span(), "the first argument of %s() is the value to maximise, not '*'", call.Func.Name)
	}
	by, err := c.expr(call.Args[0], in)
	if err != nil {
		return nil, "", err
	}
	if by.t == Dynamic {
		by = convert(by, Real)
	}
	type field struct {
		name string
		x    texpr
	}
	fields := []field{{columnName(call.Args[0]), by}}
	if call.ArgNames != nil && call.ArgNames[0] != nil {
		fields[0].name = call.ArgNames[0].Name
	}
	for _, arg := range call.Args[1:] {
		if _, star := arg.(*parser.Star); star {
			for _, col := range in.cols {
				if !names.has(col.Name) && !slices.ContainsFunc(fields, func(f field) bool { return f.name == col.Name }) {
					fields = append(fields, field{col.Name, texpr{sql: QuoteIdent(col.sql), t: col.Type}})
				}
			}
			continue
		}
		x, err := c.expr(arg, in)
		if err != nil {
			return nil, "", err
		}
		name := columnName(arg)
		if i := slices.Index(call.Args, arg); call.ArgNames != nil && call.ArgNames[i] != nil {
			name = call.ArgNames[i].Name
		}
		fields = append(fields, field{name, x})
	}
	var out []summarizeColumn
	pack := make([]string, len(fields))
	for i, f := range fields {
		key := "f" + strconv.Itoa(i)
		pack[i] = key + " := " + f.x.sql
		name := names.unique(f.name)
		names.add(name)
		out = append(out, summarizeColumn{Column: Column{name, f.x.t}, field: key, pack: pack[i]})
	}
	// A group whose T is null in every row still gives a row, with the
	// columns of any one of its rows (Kusto's arg_max docs: Banana, null,
	// Yellow): DuckDB's arg_max skips a null key, so the key is never null,
	// and a row with T ranks before (arg_max) or after (arg_min) one without.
	has := by.sql + " IS NOT NULL"
	if call.Func.Name == "arg_min" {
		has = by.sql + " IS NULL"
	}
	row := "struct_pack(" + strings.Join(pack, ", ") + ")"
	return out, call.Func.Name + "(" + row + ", struct_pack(n := " + has + ", v := " + by.sql + "))", nil
}

func unparen(e parser.Expr) parser.Expr {
	for {
		p, ok := e.(*parser.Paren)
		if !ok {
			return e
		}
		e = p.X
	}
}

func arityError(e *parser.Call, minArgs, maxArgs int) *parser.Error {
	want := fmt.Sprint(minArgs)
	if maxArgs != minArgs {
		want = fmt.Sprintf("%d to %d", minArgs, maxArgs)
	}
	return parser.Errorf(e.Span(), "%s() takes %s argument(s), not %d", e.Func.Name, want, len(e.Args))
}
