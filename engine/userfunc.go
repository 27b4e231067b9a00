package engine

import (
	"maps"

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
			WithHint("define it first: let %s = (x: long) { T | take x };", e.Func.Name)
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

// toScalar is toscalar(T): the first column of the first row of a table (a
// tabular let or a table), or null when it has no rows.
func (c *compiler) toScalar(e *parser.Call) (texpr, error) {
	if len(e.Args) != 1 {
		return texpr{}, arityError(e, 1, 1)
	}
	id, ok := unparen(e.Args[0]).(*parser.Ident)
	if !ok || !c.isTable(id.Name) {
		return texpr{}, parser.Errorf(e.Args[0].Span(), "toscalar() takes a tabular let or a table here").
			WithHint("bind the pipeline first: let t = (T | count); … toscalar(t)")
	}
	sub, err := c.table(id)
	if err != nil {
		return texpr{}, err
	}
	if len(sub.cols) == 0 {
		return texpr{}, parser.Errorf(e.Args[0].Span(), "toscalar() of a table without columns")
	}
	return texpr{sql: "(SELECT " + QuoteIdent(sub.cols[0].sql) + " FROM " + sub.from + " LIMIT 1)", t: sub.cols[0].Type}, nil
}
