package engine

import (
	"fmt"
	"strings"

	"github.com/socq/socq/parser"
)

// makeSeries compiles make-series over a datetime axis: bins from `from`
// (default: the bin of the earliest axis value) up to `to` (exclusive;
// default: just past the bin of the latest) in steps of `step`; per group, each aggregate becomes a
// dynamic array with one element per bin (the default, 0 unless given, where
// a bin has no rows) and the axis column an array of the bin starts. Output
// columns: the by columns, the aggregates, then the axis column.
func (c *compiler) makeSeries(op *parser.MakeSeries, in *scope) (*scope, error) {
	axis, err := c.expr(op.Axis, in)
	if err != nil {
		return nil, err
	}
	if axis.t != DateTime {
		return nil, parser.Errorf(op.Axis.Span(), "make-series in socq needs a datetime axis, not a %s", axis.t)
	}
	axisName := columnName(op.Axis)
	if axisName == "" {
		return nil, parser.Errorf(op.Axis.Span(), "make-series needs a column as its axis")
	}
	step, err := c.expr(op.Step, &scope{})
	if err != nil {
		return nil, err
	}
	if step.t != Timespan {
		return nil, parser.Errorf(op.Step.Span(), "the step of a datetime axis is a timespan, not a %s", step.t)
	}
	if step.lit != nil && step.lit.Duration <= 0 {
		return nil, parser.Errorf(op.Step.Span(), "the step must be positive")
	}
	bound := func(e parser.Expr, agg string) (string, error) {
		if e == nil { // the data's extent, in whole bins
			return binDateTime("(SELECT "+agg+"("+axis.sql+") FROM "+in.from+")", step.sql), nil
		}
		x, err := c.expr(e, &scope{})
		if err != nil {
			return "", err
		}
		if x.t != DateTime {
			return "", parser.Errorf(e.Span(), "a bound of a datetime axis is a datetime, not a %s", x.t)
		}
		return x.sql, nil
	}
	from, err := bound(op.From, "min")
	if err != nil {
		return nil, err
	}
	to, err := bound(op.To, "max")
	if err != nil {
		return nil, err
	}
	if op.To == nil {
		to = addTicks(to, "+", step.sql).sql // include the latest value
	}

	// The group keys and the aggregates, as summarize compiles them.
	names := newNameSet()
	keys, err := c.groupKeys(op.By, in, names)
	if err != nil {
		return nil, err
	}
	type series struct {
		projection
		def string
	}
	var aggs []series
	for i, ne := range op.Aggs {
		p, err := c.aggregateColumn(ne, in, names)
		if err != nil {
			return nil, err
		}
		def := "0"
		if d := op.Defaults[i]; d != nil {
			dx, err := c.expr(d, &scope{})
			if err != nil {
				return nil, err
			}
			def = convert(dx, p.Type).sql
		}
		aggs = append(aggs, series{p, def})
	}
	axisName = names.unique(axisName)

	// Stage 1: the bins. Stage 2: the aggregates per group and bin. Stage 3:
	// every group crossed with every bin, folded into arrays in bin order.
	bins := c.addCTE(fmt.Sprintf("SELECT make_timestamp_ns((%s + i * %s) * 100) AS b\nFROM range(0, greatest(CAST(ceil((%s - %s) / %s) AS BIGINT), 0)) AS t(i)",
		unixTicksSQL(from), step.sql, unixTicksSQL(to), unixTicksSQL(from), step.sql))
	var sel, groupBy []string
	for i, k := range keys {
		sel = append(sel, k.sql+" AS k"+fmt.Sprint(i))
		groupBy = append(groupBy, fmt.Sprint(i+1))
	}
	binOf := "make_timestamp_ns((" + unixTicksSQL(from) + " + (" + unixTicksSQL(axis.sql) + " - " + unixTicksSQL(from) + ") // " + step.sql + " * " + step.sql + ") * 100)"
	sel = append(sel, binOf+" AS b")
	groupBy = append(groupBy, fmt.Sprint(len(keys)+1))
	for i, a := range aggs {
		sel = append(sel, a.sql+" AS a"+fmt.Sprint(i))
	}
	grouped := c.addCTE("SELECT " + strings.Join(sel, ", ") + "\nFROM " + in.from +
		"\nWHERE " + axis.sql + " >= " + from + " AND " + axis.sql + " < " + to +
		"\nGROUP BY " + strings.Join(groupBy, ", "))

	groups := "(SELECT 1 AS one) AS g"
	var on, outSel, outGroup []string
	if len(keys) > 0 {
		ks := make([]string, len(keys))
		for i := range keys {
			ks[i] = "k" + fmt.Sprint(i)
			on = append(on, "s.k"+fmt.Sprint(i)+" IS NOT DISTINCT FROM g.k"+fmt.Sprint(i))
			outGroup = append(outGroup, "g.k"+fmt.Sprint(i))
		}
		groups = "(SELECT DISTINCT " + strings.Join(ks, ", ") + " FROM " + grouped + ") AS g"
	}
	on = append(on, "s.b = bins.b")
	out := &scope{}
	sqlNames := newSQLNames(len(keys))
	for i, k := range keys {
		id := sqlNames.assign(k.Name)
		outSel = append(outSel, "g.k"+fmt.Sprint(i)+" AS "+QuoteIdent(id))
		out.cols = append(out.cols, scopeColumn{k.Column, id})
	}
	for i, a := range aggs {
		id := sqlNames.assign(a.Name)
		elem := convert(texpr{sql: "coalesce(s.a" + fmt.Sprint(i) + ", " + a.def + ")", t: a.Type}, Dynamic).sql
		outSel = append(outSel, "CAST(to_json(list("+elem+" ORDER BY bins.b)) AS JSON) AS "+QuoteIdent(id))
		out.cols = append(out.cols, scopeColumn{Column{a.Name, Dynamic}, id})
	}
	axisID := sqlNames.assign(axisName)
	axisElem := convert(texpr{sql: "bins.b", t: DateTime}, Dynamic).sql
	outSel = append(outSel, "CAST(to_json(list("+axisElem+" ORDER BY bins.b)) AS JSON) AS "+QuoteIdent(axisID))
	out.cols = append(out.cols, scopeColumn{Column{axisName, Dynamic}, axisID})
	body := "SELECT " + strings.Join(outSel, ", ") + "\nFROM " + groups + "\nCROSS JOIN " + bins + " AS bins\nLEFT JOIN " + grouped + " AS s ON " + strings.Join(on, " AND ")
	if len(outGroup) > 0 {
		body += "\nGROUP BY " + strings.Join(outGroup, ", ")
	}
	out.from = c.addCTE(body)
	return out, nil
}
