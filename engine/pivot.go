package engine

import (
	"strings"

	"github.com/socq/socq/parser"
)

// pivotAggregates are the aggregation functions pivot takes (Kusto docs,
// pivot-plugin); those marked true give 0, not null, for a combination
// without rows, as the docs' examples show for count() and sum().
var pivotAggregates = map[string]bool{
	"count": true, "sum": true, "dcount": true,
	"min": false, "max": false, "take_any": false, "any": false, "avg": false,
	"stdev": false, "variance": false, "make_list": false, "make_set": false, "make_bag": false,
}

// pivot is evaluate pivot(PivotColumn [, Aggregation(Column) [, Column1, …]]):
// one row per combination of the other columns (or the ones named), one
// column per distinct value of PivotColumn, holding the aggregation (count()
// by default) of that combination's rows with that value. The values, and so
// the columns, come from the data: compiling it reads them from the
// database. Kusto leaves their order open; socq sorts them, so that a
// query's columns do not change from run to run.
func (c *compiler) pivot(op *parser.Evaluate, in *scope) (*scope, error) {
	if len(op.Args) == 0 {
		return nil, parser.Errorf(op.Span(), "pivot() needs the column to pivot: evaluate pivot(Status)")
	}
	for _, a := range op.Args {
		if a.Name != nil {
			return nil, parser.Errorf(a.Name.Span(), "pivot() takes no named arguments")
		}
	}
	pivotID, ok := unparen(op.Args[0].Expr).(*parser.Ident)
	if !ok {
		return nil, parser.Errorf(op.Args[0].Expr.Span(), "pivot() takes a column name to pivot")
	}
	pivotCol, ok := in.lookup(pivotID.Name)
	if !ok {
		return nil, unknownColumn(pivotID, in)
	}
	aggCall := &parser.Call{At: op.At, Func: &parser.Ident{At: op.At, Name: "count"}}
	if len(op.Args) > 1 {
		call, ok := unparen(op.Args[1].Expr).(*parser.Call)
		if !ok {
			return nil, parser.Errorf(op.Args[1].Expr.Span(), "pivot()'s second argument is an aggregation, such as count() or sum(Column)")
		}
		aggCall = call
	}
	zero, ok := pivotAggregates[aggCall.Func.Name]
	if !ok {
		return nil, parser.Errorf(aggCall.Func.Span(), "pivot() aggregates with count, sum, dcount, min, max, take_any, avg, stdev, variance, make_list, make_set or make_bag, not %s()", aggCall.Func.Name)
	}
	agg := aggregates[aggCall.Func.Name]
	if agg.compile == nil && aggCall.Func.Name == "take_any" {
		agg = aggregates["any"]
	}
	if n := len(aggCall.Args); n < agg.minArgs || n > agg.maxArgs {
		return nil, arityError(aggCall, agg.minArgs, agg.maxArgs)
	}
	aggArgs, err := c.exprs(aggCall.Args, in)
	if err != nil {
		return nil, err
	}
	// The grouping columns: those named, else all but the pivot column and
	// the aggregated one.
	var groups []scopeColumn
	if len(op.Args) > 2 {
		for _, a := range op.Args[2:] {
			id, ok := unparen(a.Expr).(*parser.Ident)
			if !ok {
				return nil, parser.Errorf(a.Expr.Span(), "pivot() groups by column names")
			}
			col, ok := in.lookup(id.Name)
			if !ok {
				return nil, unknownColumn(id, in)
			}
			groups = append(groups, col)
		}
	} else {
		aggregated := ""
		if len(aggCall.Args) > 0 {
			if id, ok := unparen(aggCall.Args[0]).(*parser.Ident); ok {
				aggregated = id.Name
			}
		}
		for _, col := range in.cols {
			if col.Name != pivotCol.Name && col.Name != aggregated {
				groups = append(groups, col)
			}
		}
	}
	if c.opts.Probe == nil {
		return nil, parser.Errorf(op.Span(), "pivot's columns depend on the data: it needs a database to compile against")
	}
	key := convert(texpr{sql: QuoteIdent(pivotCol.sql), t: pivotCol.Type}, String).sql
	rows, err := c.opts.Probe(c.probeSQL("\nSELECT DISTINCT " + key + " AS v FROM " + in.from + " ORDER BY v"))
	if err != nil {
		return nil, parser.Errorf(op.Span(), "pivot could not read the values of '%s': %v", pivotCol.Name, err)
	}
	var cols []projection
	names := newNameSet()
	var groupSQL []string
	for _, g := range groups {
		cols = append(cols, projection{g.Column, QuoteIdent(g.sql)})
		names.add(g.Name)
		groupSQL = append(groupSQL, QuoteIdent(g.sql))
	}
	for _, r := range rows {
		v, _ := r[0].(string)
		if v == "" {
			return nil, parser.Errorf(op.Span(), "pivot: '%s' has an empty value, which cannot name a column", pivotCol.Name).
				WithHint("filter it out first: where isnotempty(%s)", pivotCol.Name)
		}
		if names.has(v) {
			return nil, parser.Errorf(op.Span(), "pivot: the value '%s' of '%s' collides with the column '%s'", v, pivotCol.Name, v)
		}
		names.add(v)
		when := key + " = " + QuoteString(v)
		var x texpr
		if len(aggArgs) == 0 { // count()
			x = texpr{sql: "count(CASE WHEN " + when + " THEN 1 END)", t: Long}
		} else {
			only := append([]texpr(nil), aggArgs...)
			only[0] = texpr{sql: "(CASE WHEN " + when + " THEN " + aggArgs[0].sql + " END)", t: aggArgs[0].t}
			if x, err = agg.compile(aggCall, only); err != nil {
				return nil, err
			}
		}
		if zero {
			x.sql = "coalesce(" + x.sql + ", 0)"
		}
		cols = append(cols, projection{Column{v, x.t}, x.sql})
	}
	if len(cols) == 0 {
		return &scope{from: c.addCTE("SELECT NULL AS \"_socq_no_columns\"\nFROM " + in.from + "\nLIMIT 0")}, nil
	}
	suffix := ""
	if len(groupSQL) > 0 {
		suffix = "\nGROUP BY " + strings.Join(groupSQL, ", ")
	}
	return c.emitProjection(cols, &scope{from: in.from}, suffix)
}
