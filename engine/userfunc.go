package engine

import (
	"fmt"
	"maps"
	"math"
	"strconv"
	"strings"

	"github.com/socq/socq/parser"
)

// maxCallDepth stops a user function that calls itself.
const maxCallDepth = 16

// callUser inlines a user-defined function: each argument is compiled in
// the caller's row, converted to the parameter's type and bound to the
// parameter's name; the body sees its parameters and the query's lets, not
// the caller's columns (as in Kusto).
func (c *compiler) callUser(e *parser.Call, f *parser.Func, sc *scope) (texpr, error) {
	if f.Pipe != nil {
		return texpr{}, parser.Errorf(e.Span(), "'%s' is a tabular function: call it where a table goes", e.Func.Name).
			WithHint("toscalar(%s(…)) is not supported yet; bind it first: let t = %s(…); … toscalar(t)", e.Func.Name, e.Func.Name)
	}
	restore, err := c.enterCall(e, f, sc)
	defer restore()
	if err != nil {
		return texpr{}, err
	}
	x, err := c.expr(f.Body, &scope{})
	if err != nil {
		return texpr{}, err
	}
	return texpr{sql: "(" + x.sql + ")", t: x.t}, nil
}

// callTabular inlines a call of a tabular user function, such as the
// Incident Tasks workbook's Percent(toscalar(WOCount), toscalar(TCount)):
// the arguments are bound to the parameters' names as in callUser (tables
// to tabular parameters), and the body's pipeline is compiled in their place.
func (c *compiler) callTabular(e *parser.Call) (*scope, error) {
	f, ok := c.funcs[e.Func.Name]
	if !ok {
		if _, scalar := functions[e.Func.Name]; scalar {
			return nil, parser.Errorf(e.Span(), "%s() is a scalar function, not a table", e.Func.Name).
				WithHint("use it in an expression: print %s", e)
		}
		return nil, parser.Errorf(e.Func.Span(), "unknown tabular function '%s'", e.Func.Name).
			WithHint("a query reads only its let functions and socq's tables (%s); define %s with let first", strings.Join(c.cat.TableNames(), ", "), e.Func.Name)
	}
	if f.Pipe == nil {
		return nil, parser.Errorf(e.Span(), "'%s' is a scalar function, not a table", e.Func.Name).
			WithHint("use it in an expression: print %s", e)
	}
	restore, err := c.enterCall(e, f, &scope{})
	defer restore()
	if err != nil {
		return nil, err
	}
	return c.pipeline(f.Pipe)
}

// enterCall binds a call's arguments to the function's parameters — a
// scalar compiled in sc and converted to the parameter's type, a table (a
// table or tabular let name, or a tabular function call) compiled as a
// source — then runs the body's own lets. restore, always non-nil, undoes
// it all.
func (c *compiler) enterCall(e *parser.Call, f *parser.Func, sc *scope) (restore func(), err error) {
	savedScalars, savedTables, savedFuncs := c.scalars, c.tables, c.funcs
	restore = func() {
		c.scalars, c.tables, c.funcs = savedScalars, savedTables, savedFuncs
	}
	if len(e.Args) != len(f.Params) {
		return restore, arityError(e, len(f.Params), len(f.Params))
	}
	if c.callDepth >= maxCallDepth {
		return restore, parser.Errorf(e.Span(), "'%s' calls itself too deeply", e.Func.Name)
	}
	scalars, tables := maps.Clone(c.scalars), maps.Clone(c.tables)
	for i, p := range f.Params {
		if p.Tabular {
			tab, err := c.tableArg(e.Args[i])
			if err != nil {
				return restore, err
			}
			tables[p.Name.Name] = tabularLet{compiled: tab}
			delete(scalars, p.Name.Name)
			continue
		}
		t, ok := TypeByName(p.Type.Name)
		if !ok {
			return restore, parser.Errorf(p.Type.Span(), "unknown type '%s'", p.Type.Name)
		}
		x, err := c.expr(e.Args[i], sc)
		if err != nil {
			return restore, err
		}
		scalars[p.Name.Name] = convert(x, t)
		delete(tables, p.Name.Name)
	}
	c.scalars, c.tables, c.funcs = scalars, tables, maps.Clone(c.funcs)
	c.callDepth++
	restore = func() {
		c.scalars, c.tables, c.funcs = savedScalars, savedTables, savedFuncs
		c.callDepth--
	}
	for _, l := range f.Lets {
		if err := c.let(l); err != nil {
			return restore, err
		}
	}
	return restore, nil
}

// tableArg compiles the argument of a tabular parameter: the name of a
// table or tabular let, or a call of a tabular function.
func (c *compiler) tableArg(arg parser.Expr) (*scope, error) {
	switch a := unparen(arg).(type) {
	case *parser.Ident:
		if c.isTable(a.Name) {
			return c.table(a)
		}
	case *parser.Call:
		if f, ok := c.funcs[a.Func.Name]; ok && f.Pipe != nil {
			return c.callTabular(a)
		}
	}
	return nil, parser.Errorf(arg.Span(), "a tabular parameter takes a table, a tabular let or a tabular function's call")
}

// toScalar is toscalar(T): the first column of the first row of a tabular
// expression, or null when it has no rows. As in Kusto, it is computed once,
// before the query: its value is read at compile time (CompileOptions.Probe)
// and becomes a literal, since DuckDB allows no scalar subquery inside the
// try() that some functions use.
func (c *compiler) toScalar(e *parser.ToScalar) (texpr, error) {
	saved := c.render
	sub, err := c.pipeline(e.Pipe)
	c.render = saved
	if err != nil {
		return texpr{}, err
	}
	if len(sub.cols) == 0 {
		return texpr{}, parser.Errorf(e.Span(), "toscalar() of a table without columns")
	}
	col := sub.cols[0]
	if c.opts.Probe == nil {
		return texpr{}, parser.Errorf(e.Span(), "toscalar() is computed before the query: it needs a database to compile against")
	}
	value := QuoteIdent(col.sql)
	switch col.Type {
	case DateTime:
		value = "epoch_ns(" + value + ")"
	case Dynamic:
		value = "CAST(" + value + " AS VARCHAR)"
	}
	rows, err := c.opts.Probe(c.probeSQL("\nSELECT " + value + " FROM " + sub.from + " LIMIT 1"))
	if err != nil {
		return texpr{}, parser.Errorf(e.Span(), "toscalar() could not be computed: %v", err)
	}
	var v any
	if len(rows) > 0 && len(rows[0]) > 0 {
		v = rows[0][0]
	}
	return texpr{sql: scalarLiteral(v, col.Type), t: col.Type}, nil
}

// scalarLiteral is the SQL for a value read back from DuckDB, as type t.
func scalarLiteral(v any, t Type) string {
	if v == nil {
		return "CAST(NULL AS " + t.SQLType() + ")"
	}
	switch x := v.(type) {
	case bool:
		if x {
			return "TRUE"
		}
		return "FALSE"
	case string:
		if t == Dynamic {
			return "CAST(" + QuoteString(x) + " AS JSON)"
		}
		return QuoteString(x)
	case float64:
		switch {
		case math.IsNaN(x):
			return "CAST('NaN' AS DOUBLE)"
		case math.IsInf(x, 1):
			return "CAST('Infinity' AS DOUBLE)"
		case math.IsInf(x, -1):
			return "CAST('-Infinity' AS DOUBLE)"
		}
		return "CAST(" + strconv.FormatFloat(x, 'g', -1, 64) + " AS DOUBLE)"
	case float32:
		return scalarLiteral(float64(x), t)
	}
	n := fmt.Sprint(v) // the integer types
	if t == DateTime {
		return "make_timestamp_ns(" + n + ")"
	}
	return "CAST(" + n + " AS " + t.SQLType() + ")"
}
