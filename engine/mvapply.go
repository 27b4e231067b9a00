package engine

import (
	"fmt"
	"strings"

	"github.com/socq/socq/parser"
)

// partitionColumn numbers the input rows of an mv-apply; it travels with
// every subtable row so that each operator of the subquery can act per input
// row. KQL text cannot name it (it is not a plain identifier).
const partitionColumn = "mv-apply row"

// mvApply compiles mv-apply as the Kusto docs describe it: each row's arrays
// are expanded (as mv-expand does) into a subtable holding only the
// expanded columns; the subquery runs on each subtable; each result row
// gets the input row's other columns. A row whose subquery returns nothing
// is gone. The subtables are one table told apart by partitionColumn, which
// the subquery's operators keep and group by (see partitioned).
func (c *compiler) mvApply(op *parser.MvApply, in *scope) (*scope, error) {
	if c.partition != nil {
		return nil, parser.Errorf(op.Span(), "mv-apply cannot nest inside another mv-apply")
	}
	rowID := scopeColumn{Column{partitionColumn, Long}, partitionColumn}
	numbered := &scope{cols: append(append([]scopeColumn(nil), in.cols...), rowID)}
	numbered.from = c.addCTE("SELECT *, row_number() OVER () AS " + QuoteIdent(partitionColumn) + "\nFROM " + in.from)

	expanded, err := c.mvExpand(&parser.MvExpand{At: op.At, ItemIndex: op.ItemIndex, Items: op.Items, Limit: op.Limit}, numbered)
	if err != nil {
		return nil, err
	}
	// The subtable: the partition, the expanded columns and the index.
	inNames := map[string]bool{}
	for _, col := range in.cols {
		inNames[col.Name] = true
	}
	expandedNames := map[string]bool{}
	for _, it := range op.Items {
		name := columnName(it.Expr)
		if it.Name != nil {
			name = it.Name.Name
		}
		expandedNames[name] = true
	}
	if op.ItemIndex != nil {
		expandedNames[op.ItemIndex.Name] = true
	}
	var subCols []scopeColumn
	for _, col := range expanded.cols {
		if col.Name == partitionColumn || expandedNames[col.Name] {
			subCols = append(subCols, col)
		}
	}
	sub, err := c.reselect(subCols, expanded)
	if err != nil {
		return nil, err
	}

	part, _ := sub.lookup(partitionColumn)
	c.partition = &part
	for _, o := range op.Ops {
		if sub, err = c.partitioned(o, sub); err != nil {
			c.partition = nil
			return nil, err
		}
		part, _ = sub.lookup(partitionColumn)
		c.partition = &part
	}
	c.partition = nil

	// Join each result row to its input row's columns that were not expanded.
	// A subquery ending in summarize without by gives one row even for an
	// empty subtable (an empty array): count 0, make_set [], others null.
	// Those rows have no partition rows at all, so they come from a left join.
	empty := emptyAggregates(op.Ops)
	var cols []projection
	names := newNameSet()
	for _, col := range in.cols {
		if !expandedNames[col.Name] {
			names.add(col.Name)
			cols = append(cols, projection{col.Column, "src." + QuoteIdent(col.sql)})
		}
	}
	var subRow scopeColumn
	i := 0
	for _, col := range sub.cols {
		if col.Name == partitionColumn {
			subRow = col
			continue
		}
		name := names.unique(col.Name)
		names.add(name)
		value := "res." + QuoteIdent(col.sql)
		if empty != nil {
			if def := empty[i]; def != "" {
				value = "coalesce(" + value + ", " + def + ")"
			} else if col.Type == String {
				value = "coalesce(" + value + ", '')"
			}
		}
		i++
		cols = append(cols, projection{Column{name, col.Type}, value})
	}
	join := "JOIN"
	if empty != nil {
		join = "LEFT JOIN"
	}
	on := fmt.Sprintf("\n%s %s AS res ON src.%s = res.%s", join, sub.from, QuoteIdent(partitionColumn), QuoteIdent(subRow.sql))
	return c.emitProjection(cols, &scope{from: numbered.from + " AS src"}, on)
}

// emptyAggregates is, when a subquery ends in a summarize without by, the
// value of each of its output columns over no rows ("" for null); nil
// otherwise, or when an aggregate makes several columns.
func emptyAggregates(ops []parser.Operator) []string {
	if len(ops) == 0 {
		return nil
	}
	s, ok := ops[len(ops)-1].(*parser.Summarize)
	if !ok || len(s.By) > 0 {
		return nil
	}
	var out []string
	for _, a := range s.Aggs {
		def := ""
		if call, ok := unparen(a.Expr).(*parser.Call); ok {
			switch call.Func.Name {
			case "count", "countif", "dcount", "dcountif":
				def = "0"
			case "make_set", "make_list":
				def = "CAST('[]' AS JSON)"
			case "make_bag":
				def = "CAST('{}' AS JSON)"
			case "arg_max", "arg_min", "percentiles":
				return nil
			}
		}
		out = append(out, def)
	}
	return out
}

// partitioned compiles one operator of an mv-apply subquery. Row-by-row
// operators need nothing; the others act per partition.
func (c *compiler) partitioned(op parser.Operator, in *scope) (*scope, error) {
	switch op.(type) {
	case *parser.Where, *parser.Extend, *parser.MvExpand, *parser.ParseOp, *parser.Sort,
		*parser.Project, *parser.ProjectNames, *parser.ProjectRename, *parser.Distinct,
		*parser.Summarize, *parser.Take, *parser.Top, *parser.Count:
		return c.operator(op, in)
	}
	name := strings.Fields(op.String())[0]
	return nil, parser.Errorf(op.Span(), "the '%s' operator is not supported inside mv-apply", name).
		WithHint("mv-apply's subquery can use where, extend, project*, mv-expand, parse, sort, distinct, summarize, take, top, count")
}

// keepPartition adds the mv-apply partition to a column list that lost it.
func (c *compiler) keepPartition(cols []projection) []projection {
	if c.partition == nil || indexOf(cols, partitionColumn) >= 0 {
		return cols
	}
	return append(cols, projection{c.partition.Column, QuoteIdent(c.partition.sql)})
}

// perPartition is the QUALIFY clause that keeps n rows of each partition, in
// the given order; "" outside mv-apply.
func (c *compiler) perPartition(n int64, order string) string {
	if c.partition == nil {
		return ""
	}
	if order != "" {
		order = " ORDER BY " + order
	}
	return fmt.Sprintf("\nQUALIFY row_number() OVER (PARTITION BY %s%s) <= %d", QuoteIdent(c.partition.sql), order, n)
}
