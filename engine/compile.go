// Package engine compiles KQL to DuckDB SQL and runs it on socq's database.
//
// Compile is pure: it needs no database, only a Catalog, so `socq query
// --explain` and the golden tests see exactly the SQL that would run. The
// exceptions are the operators whose columns depend on the data (bag_unpack,
// pivot) and toscalar(): the caller passes CompileOptions.Probe to answer
// their questions, and may pass a Stager so that bag_unpack's input is read
// once into a temporary table (stage.go). Each
// pipe stage becomes one CTE over the previous one; the compiler tracks the
// typed KQL columns of every stage and maps each KQL name to a SQL identifier
// that cannot collide (KQL names are case-sensitive, DuckDB's are not).
// DB in db.go is the only code that talks to DuckDB.
package engine

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/socq/socq/parser"
)

// Plan is a compiled query: the SQL to run and the KQL columns it returns, in
// order. Dynamic columns come back as JSON text, timespans as ticks (100 ns).
type Plan struct {
	SQL     string
	Columns []Column
	// Render is the chart a trailing render operator asked for: its kind
	// ("timechart") and options as written; empty without one.
	Render struct{ Kind, Options string }
	// Staged are the temporary tables SQL reads (see Stager): the plan runs
	// only on the DB that staged them, once, and DB.Release drops them.
	Staged []string
}

// CompileOptions adjust compilation.
type CompileOptions struct {
	// Now is the value of now() for the whole query; zero means the time the
	// query runs (DuckDB's now(), fixed per statement).
	Now time.Time
	// Probe runs SQL for operators whose output columns depend on the data
	// (bag_unpack) and returns its rows. Nil means no data is at hand, and
	// such operators are errors. DB.Probe provides one.
	Probe func(sql string) ([][]any, error)
	// Stager, with Probe, lets bag_unpack run the pipeline before it once,
	// into a temporary table (see stage.go). Without one, the query runs
	// that pipeline twice and its SQL stands alone, as --explain shows it.
	Stager Stager
}

// Compile translates a parsed query into SQL over the catalog's tables.
// Errors are *parser.Error pointing into the query text.
func Compile(q *parser.Query, cat *Catalog, opts CompileOptions) (*Plan, error) {
	c := &compiler{cat: cat, opts: opts, query: q.Pipe, scalars: map[string]texpr{}, tables: map[string]tabularLet{}, funcs: map[string]*parser.Func{}}
	plan, err := c.compile(q)
	if err != nil && len(c.staged) > 0 {
		// Staging reads only some columns: compile again without it, so
		// that the error (and its "did you mean") is the one it always is.
		for _, t := range c.staged {
			opts.Stager.Drop(t)
		}
		opts.Stager = nil
		return Compile(q, cat, opts)
	}
	return plan, err
}

func (c *compiler) compile(q *parser.Query) (*Plan, error) {
	for _, l := range q.Lets {
		if err := c.let(l); err != nil {
			return nil, err
		}
	}
	sc, err := c.pipeline(q.Pipe)
	if err != nil {
		return nil, err
	}
	if len(sc.cols) == 0 {
		return nil, parser.Errorf(q.Pipe.Span(), "the query's result has no columns")
	}
	return c.finish(sc), nil
}

// compiler holds the CTEs built so far.
type compiler struct {
	cat  *Catalog
	opts CompileOptions
	ctes []string
	// aggregating is set while compiling summarize's aggregates, where
	// aggregation functions are allowed; inAggregate inside one of them.
	aggregating, inAggregate bool
	render                   *parser.Render
	// partition is set inside an mv-apply subquery: the column that tells
	// its subtables apart (see mvapply.go).
	partition *scopeColumn
	// scalars, tables and funcs are the let-bound names seen so far.
	scalars   map[string]texpr
	tables    map[string]tabularLet
	funcs     map[string]*parser.Func
	callDepth int
	// windows is set while compiling the expressions of extend, project,
	// serialize and where, the places window functions may appear;
	// pendingWindows are the window columns their stage must compute first.
	windows        bool
	pendingWindows []string
	// argStructs are the arg_max/arg_min structs whose unused fields
	// prunedCTEs drops.
	argStructs []argStruct
	// query is the query's own pipeline; atTop is set while one of its
	// operators compiles, with before and rest the operators before and
	// after it (staging needs to know what it saves and who reads its
	// columns).
	query        *parser.Pipeline
	atTop        bool
	before, rest []parser.Operator
	// staged are the temporary tables made so far; the stages before
	// firstStage are in them and are not part of the SQL.
	staged     []string
	firstStage int
}

// tabularLet is a let-bound pipeline and the tabular lets it may refer to
// (those defined before it), or a stage already compiled (named by as).
type tabularLet struct {
	pipe     *parser.Pipeline
	tables   map[string]tabularLet
	compiled *scope
}

// let binds a name. A let whose value is a bare name of a table is tabular;
// any other expression is a scalar, compiled once and inlined where used.
func (c *compiler) let(l *parser.Let) error {
	name := l.Name.Name
	if _, ok := c.cat.Table(name); ok {
		return parser.Errorf(l.Name.Span(), "'%s' is a table: a let cannot rebind it", name)
	}
	pipe := l.Pipe
	if id, ok := l.Expr.(*parser.Ident); ok && pipe == nil && c.isTable(id.Name) {
		pipe = &parser.Pipeline{At: id.At, Source: id}
	}
	delete(c.scalars, name)
	delete(c.tables, name)
	delete(c.funcs, name)
	if l.Func != nil {
		c.funcs[name] = l.Func
		return nil
	}
	if pipe != nil {
		c.tables[name] = tabularLet{pipe: pipe, tables: maps.Clone(c.tables)}
		return nil
	}
	x, err := c.expr(l.Expr, &scope{})
	if err != nil {
		return err
	}
	c.scalars[name] = x
	return nil
}

func (c *compiler) isTable(name string) bool {
	_, isLet := c.tables[name]
	_, isTable := c.cat.Table(name)
	return isLet || isTable
}

// scope is the typed column list of one stage, and the CTE it lives in.
type scope struct {
	from string
	cols []scopeColumn
	// serialized says the rows' order is fixed: by sort, top or serialize,
	// kept by the operators that keep it (DuckDB keeps an ORDER BY's order
	// through later filters, projections, unnest and LIMIT).
	serialized bool
	// order, when set, is the SQL name of a column of the CTE (not a KQL
	// column) that numbers serialized rows in their order, made when a
	// window function (row_number(), prev(), next(), row_cumsum()) first
	// needs it (see flushWindows).
	order string
	// exact says the CTE has no columns but cols, order and hidden (SQL
	// names of helper columns, such as mv-expand's lists), so a stage over
	// it may start from SELECT * (starProjection).
	exact  bool
	hidden []string
}

// over is s read from the stage from, which keeps s's rows' columns as
// they are (a filter, a limit, an order): the same columns, order column
// and helper columns.
func (s *scope) over(from string) *scope {
	out := *s
	out.from = from
	return &out
}

// scopeColumn is a KQL column and the SQL identifier that holds it.
type scopeColumn struct {
	Column
	sql string
}

func (s *scope) lookup(name string) (scopeColumn, bool) {
	for _, c := range s.cols {
		if c.Name == name {
			return c, true
		}
	}
	return scopeColumn{}, false
}

func (s *scope) index(name string) int {
	for i, c := range s.cols {
		if c.Name == name {
			return i
		}
	}
	return -1
}

// addCTE appends a stage and returns its name.
func (c *compiler) addCTE(body string) string {
	name := "s" + strconv.Itoa(len(c.ctes))
	var b strings.Builder
	b.Grow(len(name) + len(body) + 16 + 2*strings.Count(body, "\n"))
	b.WriteString(name)
	b.WriteString(" AS (\n  ")
	writeIndented(&b, body, "  ")
	b.WriteString("\n)")
	c.ctes = append(c.ctes, b.String())
	return name
}

// writeIndented writes sql to b with prefix after every line break that is
// not inside a string literal or a quoted identifier: a line break inside
// one is data (a multi-line KQL string, a column name) and must stay as it
// is.
func writeIndented(b *strings.Builder, sql, prefix string) {
	for {
		// Copy up to the next line break or quote, then deal with it.
		i := strings.IndexAny(sql, "\n'\"")
		if i < 0 {
			b.WriteString(sql)
			return
		}
		b.WriteString(sql[:i+1])
		ch := sql[i]
		sql = sql[i+1:]
		if ch == '\n' {
			b.WriteString(prefix)
			continue
		}
		// Inside a quote up to its closing one; a doubled quote closes and
		// reopens, with the same result.
		end := strings.IndexByte(sql, ch)
		if end < 0 {
			b.WriteString(sql)
			return
		}
		b.WriteString(sql[:end+1])
		sql = sql[end+1:]
	}
}

func (c *compiler) finish(sc *scope) *Plan {
	sel := make([]string, len(sc.cols))
	cols := make([]Column, len(sc.cols))
	for i, col := range sc.cols {
		expr := QuoteIdent(col.sql)
		if col.Type == Dynamic {
			expr = "CAST(" + expr + " AS VARCHAR)"
		}
		sel[i] = expr + " AS " + QuoteIdent(col.Name)
		cols[i] = col.Column
	}
	final := "\nSELECT "
	if len(sel) == 0 {
		final += "*"
	}
	final += strings.Join(sel, ", ") + "\nFROM " + sc.from
	var b strings.Builder
	b.WriteString("WITH ")
	b.WriteString(strings.Join(c.prunedCTEs(final), ",\n"))
	b.WriteString(final)
	plan := &Plan{SQL: b.String(), Columns: cols, Staged: c.staged}
	if c.render != nil {
		plan.Render.Kind, plan.Render.Options = c.render.Kind, c.render.Options
	}
	return plan
}

func (c *compiler) pipeline(p *parser.Pipeline) (*scope, error) {
	sc, err := c.source(p.Source)
	if err != nil {
		return nil, err
	}
	for i, op := range p.Ops {
		if r, ok := op.(*parser.Render); ok {
			if i != len(p.Ops)-1 {
				return nil, parser.Errorf(r.Span(), "render must be the last operator of the query")
			}
			c.render = r
			continue
		}
		c.atTop, c.before, c.rest = p == c.query, p.Ops[:i], p.Ops[i+1:]
		sc, err = c.operator(op, sc)
		c.atTop = false
		if err != nil {
			return nil, err
		}
	}
	return sc, nil
}

func (c *compiler) source(src parser.Source) (*scope, error) {
	switch s := src.(type) {
	case *parser.Pipeline:
		return c.pipeline(s)
	case *parser.Print:
		return c.print(s)
	case *parser.Datatable:
		return c.datatable(s)
	case *parser.Range:
		return c.rangeSource(s)
	case *parser.Union:
		return c.union(s, nil)
	case *parser.Call:
		return c.callTabular(s)
	}
	return c.table(src.(*parser.Ident))
}

// table is a source named by a table or a tabular let.
func (c *compiler) table(id *parser.Ident) (*scope, error) {
	if l, ok := c.tables[id.Name]; ok && l.compiled != nil {
		return l.compiled, nil
	}
	if l, ok := c.tables[id.Name]; ok {
		outer := c.tables
		c.tables = l.tables
		defer func() { c.tables = outer }()
		return c.pipeline(l.pipe)
	}
	t, ok := c.cat.Table(id.Name)
	if !ok {
		if _, scalar := c.scalars[id.Name]; scalar {
			return nil, parser.Errorf(id.Span(), "'%s' is a scalar let, not a table", id.Name)
		}
		err := parser.Errorf(id.Span(), "unknown table '%s'", id.Name)
		if s := parser.Suggest(id.Name, c.cat.TableNames()); s != "" {
			return nil, err.WithHint("did you mean '%s'?", s)
		}
		return nil, err.WithHint("socq holds only these tables: %s", strings.Join(c.cat.TableNames(), ", "))
	}
	return &scope{cols: c.cat.scanCols[t.Name], exact: true, from: c.addCTE(c.cat.scans[t.Name])}, nil
}

func (c *compiler) operator(op parser.Operator, in *scope) (*scope, error) {
	switch op := op.(type) {
	case *parser.Where:
		return c.where(op, in)
	case *parser.Project:
		return c.project(op, in)
	case *parser.Extend:
		return c.extend(op, in)
	case *parser.Take:
		return c.take(op, in)
	case *parser.Count:
		out := &scope{cols: []scopeColumn{{Column{"Count", Long}, "Count"}}}
		if p := c.partition; p != nil {
			out.cols = append(out.cols, *p)
			out.from = c.addCTE(`SELECT count(*) AS "Count", ` + QuoteIdent(p.sql) + "\nFROM " + in.from + "\nGROUP BY " + QuoteIdent(p.sql))
			return out, nil
		}
		out.from = c.addCTE(`SELECT count(*) AS "Count"` + "\nFROM " + in.from)
		return out, nil
	case *parser.MvExpand:
		return c.mvExpand(op, in)
	case *parser.Sort:
		return c.sort(op, in)
	case *parser.Serialize:
		return c.serialize(op, in)
	case *parser.Top:
		return c.top(op, in)
	case *parser.Distinct:
		return c.distinct(op, in)
	case *parser.ProjectNames:
		return c.projectNames(op, in)
	case *parser.ProjectRename:
		return c.projectRename(op, in)
	case *parser.Summarize:
		return c.summarize(op, in)
	case *parser.Evaluate:
		return c.evaluate(op, in)
	case *parser.Join:
		return c.join(op, in)
	case *parser.UnionOp:
		return c.union(&op.Union, in)
	case *parser.ParseOp:
		return c.parseOp(op, in)
	case *parser.MakeSeries:
		return c.makeSeries(op, in)
	case *parser.MvApply:
		return c.mvApply(op, in)
	case *parser.As:
		if _, ok := c.cat.Table(op.Name.Name); ok {
			return nil, parser.Errorf(op.Name.Span(), "'%s' is a table: as cannot rebind it", op.Name.Name)
		}
		c.tables[op.Name.Name] = tabularLet{compiled: in}
		return in, nil
	case *parser.Sample:
		return c.sample(op, in)
	}
	return nil, parser.Errorf(op.Span(), "operator not supported: %s", op)
}

func (c *compiler) where(op *parser.Where, in *scope) (*scope, error) {
	restore := c.allowWindows()
	pred, err := c.expr(op.Pred, in)
	restore()
	if err != nil {
		return nil, err
	}
	cond, err := c.predicate(op.Pred, pred)
	if err != nil {
		return nil, err
	}
	in = c.flushWindows(in)
	return in.over(c.addCTE("SELECT *\nFROM " + in.from + "\nWHERE " + cond)), nil
}

// predicate returns the SQL of a boolean condition; dynamic values convert.
func (c *compiler) predicate(e parser.Expr, x texpr) (string, error) {
	switch x.t {
	case Bool:
		return x.sql, nil
	case Dynamic:
		return convert(x, Bool).sql, nil
	}
	return "", parser.Errorf(e.Span(), "a predicate must be a bool, but this is a %s", x.t).
		WithHint("compare it with a value, e.g. == or isnotempty()")
}

// projection is one output column being built by project or extend.
type projection struct {
	Column
	sql string // expression over the input stage
}

func (c *compiler) project(op *parser.Project, in *scope) (*scope, error) {
	var cols []projection
	names := newNameSet()
	defer c.allowWindows()()
	for _, ne := range op.Columns {
		x, err := c.expr(ne.Expr, in)
		if err != nil {
			return nil, err
		}
		name := ""
		if ne.Name != nil {
			name = ne.Name.Name
			if names.has(name) {
				return nil, parser.Errorf(ne.Name.Span(), "column '%s' is declared twice in this project", name)
			}
		} else {
			name = names.unique(columnName(ne.Expr))
		}
		names.add(name)
		cols = append(cols, projection{Column{name, x.t}, x.sql})
	}
	return c.emitProjection(c.keepPartition(cols), c.flushWindows(in), "")
}

func (c *compiler) extend(op *parser.Extend, in *scope) (*scope, error) {
	cols := c.passThrough(in, len(op.Columns))
	names := newNameSet()
	for _, col := range in.cols {
		names.add(col.Name)
	}
	declared := newNameSet()
	defer c.allowWindows()()
	for _, ne := range op.Columns {
		x, err := c.expr(ne.Expr, in)
		if err != nil {
			return nil, err
		}
		var name string
		if ne.Name != nil {
			name = ne.Name.Name
			if declared.has(name) {
				return nil, parser.Errorf(ne.Name.Span(), "column '%s' is declared twice in this extend", name)
			}
		} else if name = columnName(ne.Expr); name == "" {
			name = names.unique("")
		}
		declared.add(name)
		names.add(name)
		// extend on an existing column replaces it in place
		cols = replaceOrAppend(cols, projection{Column{name, x.t}, x.sql})
	}
	return c.emitProjection(cols, c.flushWindows(in), "")
}

func indexOf(cols []projection, name string) int {
	for i, c := range cols {
		if c.Name == name {
			return i
		}
	}
	return -1
}

// emitProjection writes a SELECT of the given columns over in (plus an
// optional FROM suffix) and returns the new stage, assigning SQL names.
func (c *compiler) emitProjection(cols []projection, in *scope, fromSuffix string) (*scope, error) {
	if fromSuffix == "" && in.exact {
		if out, ok := c.starProjection(cols, in); ok {
			return out, nil
		}
	}
	out := &scope{cols: make([]scopeColumn, 0, len(cols)), exact: true}
	sqlNames := newSQLNames(len(cols))
	sel := make([]string, len(cols), len(cols)+1)
	for i, p := range cols {
		id := sqlNames.assign(p.Name)
		out.cols = append(out.cols, scopeColumn{p.Column, id})
		if quotes(p.sql, id) {
			sel[i] = p.sql
		} else {
			sel[i] = p.sql + " AS " + QuoteIdent(id)
		}
	}
	if len(sel) == 0 {
		return nil, fmt.Errorf("a projection needs at least one column")
	}
	if in.order != "" {
		sel = append(sel, QuoteIdent(in.order))
		out.order = in.order
	}
	out.serialized = in.serialized
	out.from = c.addCTE(selectFrom(sel, in.from, fromSuffix))
	return out, nil
}

// starProjection writes cols over in as SELECT * when they are in's
// columns in their order, some replaced or left out, followed by new ones:
// the result emitProjection's list gives, in less SQL (and compile time)
// for the operators that touch a few columns of a wide table. The columns
// kept keep their SQL names. It reports false when cols have another shape,
// or leave out more columns than they keep (a list is shorter then).
func (c *compiler) starProjection(cols []projection, in *scope) (*scope, bool) {
	// The shape first, without allocating: most lists that do not fit are
	// told apart in a few comparisons.
	kept, i := 0, 0
	for _, sc := range in.cols {
		if i < len(cols) && cols[i].Name == sc.Name {
			kept++
			i++
			continue
		}
		if slices.ContainsFunc(cols[i:], func(p projection) bool { return p.Name == sc.Name }) {
			return nil, false // reordered
		}
	}
	if kept == 0 || len(in.cols)-kept > kept {
		return nil, false
	}
	out := &scope{cols: make([]scopeColumn, 0, len(cols)), serialized: in.serialized, order: in.order, exact: true}
	var exclude, replace []string
	i = 0
	for _, sc := range in.cols {
		if i < len(cols) && cols[i].Name == sc.Name {
			p := cols[i]
			i++
			out.cols = append(out.cols, scopeColumn{p.Column, sc.sql})
			if !quotes(p.sql, sc.sql) {
				replace = append(replace, p.sql+" AS "+QuoteIdent(sc.sql))
			}
			continue
		}
		exclude = append(exclude, QuoteIdent(sc.sql))
	}
	for _, h := range in.hidden {
		exclude = append(exclude, QuoteIdent(h))
	}
	star := "*"
	if len(exclude) > 0 {
		star += " EXCLUDE (" + strings.Join(exclude, ", ") + ")"
	}
	if len(replace) > 0 {
		star += " REPLACE (" + strings.Join(replace, ", ") + ")"
	}
	sel := []string{star}
	for _, p := range cols[i:] {
		id := freshSQLName(p.Name, in, func(id string) bool {
			return slices.ContainsFunc(out.cols, func(sc scopeColumn) bool { return strings.EqualFold(sc.sql, id) })
		})
		out.cols = append(out.cols, scopeColumn{p.Column, id})
		sel = append(sel, p.sql+" AS "+QuoteIdent(id))
	}
	out.from = c.addCTE(selectFrom(sel, in.from, ""))
	return out, true
}

// freshSQLName is name, or name_2, name_3, …: the first that no column of
// in has (hidden ones and the order column too) and that is not taken,
// ignoring case as DuckDB does. (A few names against one scope: cheaper
// than filling a sqlNames with all of its columns.)
func freshSQLName(name string, in *scope, taken func(id string) bool) string {
	return numberedName(name, func(id string) bool {
		return slices.ContainsFunc(in.cols, func(sc scopeColumn) bool { return strings.EqualFold(sc.sql, id) }) ||
			slices.ContainsFunc(in.hidden, func(h string) bool { return strings.EqualFold(h, id) }) ||
			strings.EqualFold(in.order, id) || taken(id)
	})
}

// passThrough lists in's columns as projections that pass them on, with
// room for extra more.
func (c *compiler) passThrough(in *scope, extra int) []projection {
	cols := make([]projection, len(in.cols), len(in.cols)+extra)
	for i, col := range in.cols {
		cols[i] = projection{col.Column, QuoteIdent(col.sql)}
	}
	return cols
}

// quotes reports whether sql is QuoteIdent(name), without building it.
func quotes(sql, name string) bool {
	if strings.Contains(name, `"`) {
		return sql == QuoteIdent(name)
	}
	return len(sql) == len(name)+2 && sql[0] == '"' && sql[len(sql)-1] == '"' && sql[1:len(sql)-1] == name
}

// selectFrom is "SELECT sel, … \nFROM from suffix", built in one buffer.
func selectFrom(sel []string, from, suffix string) string {
	n := len("SELECT \nFROM ") + len(from) + len(suffix) + 2*len(sel)
	for _, s := range sel {
		n += len(s)
	}
	var b strings.Builder
	b.Grow(n)
	b.WriteString("SELECT ")
	for i, s := range sel {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(s)
	}
	b.WriteString("\nFROM ")
	b.WriteString(from)
	b.WriteString(suffix)
	return b.String()
}

func (c *compiler) take(op *parser.Take, in *scope) (*scope, error) {
	n, err := c.constInt(op.Count, in)
	if err != nil {
		return nil, err
	}
	if q := c.perPartition(n, ""); q != "" {
		return in.over(c.addCTE("SELECT *\nFROM " + in.from + q)), nil
	}
	return in.over(c.addCTE(fmt.Sprintf("SELECT *\nFROM %s\nLIMIT %d", in.from, n))), nil
}

// constInt evaluates an expression that must be a non-negative integer
// constant: a literal, or a let bound to one.
func (c *compiler) constInt(e parser.Expr, in *scope) (int64, error) {
	x, err := c.expr(unparen(e), in)
	if err != nil {
		return 0, err
	}
	n, ok := constLong(x)
	if !ok {
		return 0, parser.Errorf(e.Span(), "expected a constant whole number here")
	}
	if n < 0 {
		return 0, parser.Errorf(e.Span(), "expected a number of rows, not %d", n)
	}
	return n, nil
}

// nameSet tracks the KQL names used in one output, and derives unique ones
// the way Kusto does: a repeated name x becomes x1, x2; an unnamed
// expression becomes Column1, Column2.
type nameSet map[string]bool

func newNameSet() nameSet { return nameSet{} }

func (s nameSet) has(name string) bool { return s[name] }
func (s nameSet) add(name string)      { s[name] = true }

func (s nameSet) unique(base string) string {
	if base != "" && !s[base] {
		return base
	}
	if base == "" {
		base = "Column"
	}
	for i := 1; ; i++ {
		if n := base + strconv.Itoa(i); !s[n] {
			return n
		}
	}
}

// sqlNames assigns SQL identifiers that are unique ignoring case, keeping
// the KQL name where that is already unique (so the SQL stays readable).
type sqlNames map[string]bool

// newSQLNames makes room for about n names (a wide table's columns would
// otherwise grow the map several times).
func newSQLNames(n int) sqlNames { return make(sqlNames, n) }

func (s sqlNames) assign(name string) string {
	id := numberedName(name, func(id string) bool { return s[strings.ToLower(id)] })
	s[strings.ToLower(id)] = true
	return id
}

// numberedName is name, or name_2, name_3, …: the first that is not used
// (an empty name is "_": DuckDB has no empty identifier).
func numberedName(name string, used func(id string) bool) string {
	if name == "" {
		name = "_"
	}
	id := name
	for n := 2; used(id); n++ {
		id = name + "_" + strconv.Itoa(n)
	}
	return id
}

// columnName derives the output name of an unnamed expression as Kusto does:
// a column keeps its name; a dynamic path joins its steps with '_'
// (Owner.email → Owner_email, Tasks[0].title → Tasks_0_title); a conversion
// function takes its argument's name; anything else gets no name ("").
func columnName(e parser.Expr) string {
	switch e := e.(type) {
	case *parser.Ident:
		return e.Name
	case *parser.Paren:
		return columnName(e.X)
	case *parser.Member:
		if base := columnName(e.X); base != "" {
			return base + "_" + e.Name.Name
		}
	case *parser.Index:
		base := columnName(e.X)
		lit, ok := e.Index.(*parser.Literal)
		if base == "" || !ok || lit.Null {
			return ""
		}
		switch lit.Kind {
		case parser.StringLit:
			return base + "_" + lit.Str
		case parser.LongLit, parser.IntLit:
			return fmt.Sprintf("%s_%d", base, lit.Int)
		}
	case *parser.Call:
		if f, ok := functions[e.Func.Name]; ok && len(e.Args) > 0 {
			switch f.naming {
			case nameFromArgument:
				return columnName(e.Args[0])
			case nameWithArgument:
				if arg := columnName(e.Args[0]); arg != "" {
					return e.Func.Name + "_" + arg
				}
			}
		}
	}
	return ""
}
