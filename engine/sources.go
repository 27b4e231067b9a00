package engine

import (
	"fmt"
	"slices"
	"strings"

	"github.com/socq/socq/parser"
)

// Sources other than tables: print, datatable, range and union.

// print is a one-row table; unnamed columns are print_0, print_1, … by
// position, as in Kusto.
func (c *compiler) print(p *parser.Print) (*scope, error) {
	names := newNameSet()
	var cols []projection
	for i, ne := range p.Columns {
		x, err := c.expr(ne.Expr, &scope{})
		if err != nil {
			return nil, err
		}
		name := fmt.Sprintf("print_%d", i)
		if ne.Name != nil {
			name = ne.Name.Name
		}
		if names.has(name) {
			return nil, parser.Errorf(ne.Span(), "column '%s' is declared twice in this print", name)
		}
		names.add(name)
		cols = append(cols, projection{Column{name, x.t}, x.sql})
	}
	return c.emitProjection(cols, &scope{from: "(SELECT 1) AS one"}, "")
}

// datatable is an inline table of constant values, filled row by row.
func (c *compiler) datatable(d *parser.Datatable) (*scope, error) {
	out := &scope{}
	sqlNames := newSQLNames(len(d.Columns))
	names := newNameSet()
	for _, col := range d.Columns {
		t, ok := TypeByName(col.Type.Name)
		if !ok {
			return nil, parser.Errorf(col.Type.Span(), "unknown type '%s'", col.Type.Name)
		}
		if names.has(col.Name.Name) {
			return nil, parser.Errorf(col.Name.Span(), "column '%s' is declared twice in this datatable", col.Name.Name)
		}
		names.add(col.Name.Name)
		out.cols = append(out.cols, scopeColumn{Column{col.Name.Name, t}, sqlNames.assign(col.Name.Name)})
	}
	n := len(out.cols)
	if len(d.Values)%n != 0 {
		return nil, parser.Errorf(d.Span(), "datatable has %d values for %d columns: the last row is incomplete", len(d.Values), n)
	}
	// The rows are one VALUES list, which DuckDB reads in order (a UNION
	// ALL of one-row SELECTs may come out in any order, and make_list
	// would see the rows shuffled).
	empty := make([]string, n)
	sel := make([]string, n)
	vcols := make([]string, n)
	for i, col := range out.cols {
		empty[i] = "CAST(NULL AS " + col.Type.SQLType() + ") AS " + QuoteIdent(col.sql)
		vcols[i] = fmt.Sprintf("v%d", i)
		sel[i] = "CAST(" + vcols[i] + " AS " + col.Type.SQLType() + ") AS " + QuoteIdent(col.sql)
	}
	var rows []string
	for r := 0; r < len(d.Values)/n; r++ {
		row := make([]string, n)
		for i, col := range out.cols {
			v := d.Values[r*n+i]
			x, err := c.expr(v, &scope{})
			if err != nil {
				return nil, err
			}
			if x.lit == nil && !isNegatedLiteral(v) {
				return nil, parser.Errorf(v.Span(), "datatable values must be constants")
			}
			if x, err = fitValue(v, x, col.Type); err != nil {
				return nil, err
			}
			row[i] = x.sql
		}
		rows = append(rows, "("+strings.Join(row, ", ")+")")
	}
	body := "SELECT " + strings.Join(empty, ", ") + "\nWHERE FALSE"
	if len(rows) > 0 {
		body = "SELECT " + strings.Join(sel, ", ") + "\nFROM (VALUES " + strings.Join(rows, ",\n  ") + ") AS datatable(" + strings.Join(vcols, ", ") + ")"
	}
	out.from = c.addCTE(body)
	return out, nil
}

func isNegatedLiteral(e parser.Expr) bool {
	u, ok := e.(*parser.Unary)
	if !ok {
		return false
	}
	_, ok = u.X.(*parser.Literal)
	return ok
}

// fitValue converts a constant to a declared column type: numbers widen, a
// null of any type fits, anything else must already have the type.
func fitValue(e parser.Expr, x texpr, t Type) (texpr, error) {
	switch {
	case x.t == t, x.lit != nil && x.lit.Null:
		return convert(texpr{sql: x.sql, t: x.t}, t), nil
	case x.t.numeric() && t.numeric(), t == Dynamic:
		return convert(x, t), nil
	}
	return texpr{}, parser.Errorf(e.Span(), "a %s does not fit a %s column", x.t, t)
}

// rangeSource is range x from A to B step S: A, A+S, … up to B inclusive.
func (c *compiler) rangeSource(r *parser.Range) (*scope, error) {
	var xs [3]texpr
	for i, e := range []parser.Expr{r.From, r.To, r.Step} {
		x, err := c.expr(e, &scope{})
		if err != nil {
			return nil, err
		}
		xs[i] = x
	}
	from, to, step := xs[0], xs[1], xs[2]
	if n, ok := constReal(step); ok && n <= 0 || step.lit != nil && step.lit.Kind == parser.TimespanLit && step.lit.Duration <= 0 {
		return nil, parser.Errorf(r.Step.Span(), "the range step must be positive")
	}
	var value, count string
	var t Type
	switch {
	case from.t == DateTime && to.t == DateTime && step.t == Timespan:
		t = DateTime
		value = "make_timestamp_ns((" + unixTicksSQL(from.sql) + " + i * " + step.sql + ") * 100)"
		count = "(" + unixTicksSQL(to.sql) + " - " + unixTicksSQL(from.sql) + ") // " + step.sql + " + 1"
	case from.t.numeric() && to.t.numeric() && step.t.numeric():
		t = Long
		if from.t == Real || to.t == Real || step.t == Real {
			t = Real
		}
		value = "(" + convert(from, t).sql + " + i * " + convert(step, t).sql + ")"
		count = "coalesce(TRY_CAST(floor((" + convert(to, Real).sql + " - " + convert(from, Real).sql + ") / " + convert(step, Real).sql + ") AS BIGINT) + 1, 0)"
	default:
		return nil, parser.Errorf(r.Span(), "range needs numbers, or datetimes with a timespan step")
	}
	out := &scope{cols: []scopeColumn{{Column{r.Column.Name, t}, r.Column.Name}}}
	out.from = c.addCTE("SELECT " + value + " AS " + QuoteIdent(r.Column.Name) + "\nFROM range(0, greatest(" + count + ", 0)) AS t(i)")
	return out, nil
}

// union concatenates its tables (after in, when used as an operator). The
// outer union (the default) has every column of every table, in order of
// first appearance, null ("" for strings) where a table lacks one; a name
// with two types becomes name_type for each, as Kusto does. kind=inner keeps
// the columns all tables share. withsource=Name adds the table's name (the
// let or table name, else union_argN).
func (c *compiler) union(u *parser.Union, in *scope) (*scope, error) {
	type part struct {
		sc   *scope
		name string
	}
	var parts []part
	if in != nil {
		parts = append(parts, part{in, "union_arg0"})
	}
	for _, p := range u.Tables {
		sc, err := c.pipeline(p)
		if err != nil {
			return nil, err
		}
		name := fmt.Sprintf("union_arg%d", len(parts))
		if id, ok := p.Source.(*parser.Ident); ok && len(p.Ops) == 0 {
			name = id.Name
		}
		parts = append(parts, part{sc, name})
	}
	// The output columns: name → types seen, in order of first appearance.
	var order []string
	types := map[string][]Type{}
	count := map[string]int{}
	for _, p := range parts {
		for _, col := range p.sc.cols {
			if _, seen := types[col.Name]; !seen {
				order = append(order, col.Name)
			}
			if !slices.Contains(types[col.Name], col.Type) {
				types[col.Name] = append(types[col.Name], col.Type)
			}
			count[col.Name]++
		}
	}
	var outCols []Column
	if u.WithSource != nil {
		outCols = append(outCols, Column{u.WithSource.Name, String})
	}
	for _, name := range order {
		if u.Kind == "inner" && count[name] < len(parts) {
			continue
		}
		if ts := types[name]; len(ts) > 1 {
			for _, t := range ts {
				outCols = append(outCols, Column{name + "_" + t.String(), t})
			}
			continue
		}
		outCols = append(outCols, Column{name, types[name][0]})
	}
	sqlNames := newSQLNames(len(outCols))
	out := &scope{}
	for _, col := range outCols {
		out.cols = append(out.cols, scopeColumn{col, sqlNames.assign(col.Name)})
	}
	selects := make([]string, len(parts))
	for i, p := range parts {
		sel := make([]string, len(out.cols))
		for j, oc := range out.cols {
			v := "CAST(NULL AS " + oc.Type.SQLType() + ")"
			if oc.Type == String {
				v = "''"
			}
			if u.WithSource != nil && j == 0 {
				v = QuoteString(p.name)
			}
			for _, col := range p.sc.cols {
				if col.Name == oc.Name || len(types[col.Name]) > 1 && col.Name+"_"+col.Type.String() == oc.Name {
					v = QuoteIdent(col.sql)
				}
			}
			sel[j] = v + " AS " + QuoteIdent(oc.sql)
		}
		selects[i] = "SELECT " + strings.Join(sel, ", ") + " FROM " + p.sc.from
	}
	out.from = c.addCTE(strings.Join(selects, "\nUNION ALL\n"))
	return out, nil
}
