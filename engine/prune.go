package engine

import "strings"

// argStruct is an arg_max/arg_min of summarize: one struct of every
// column it keeps from the chosen row (arg_max(T, *) packs them all),
// grouped in one stage and unpacked into columns in the next. Packing a
// wide row costs far more than the aggregation itself, and DuckDB cannot
// drop struct fields nobody reads, so prunedCTEs drops them: a field whose
// column no later stage names is left out of the struct and the unpacking.
type argStruct struct {
	grouped, unpacked int    // indexes of the two stages in compiler.ctes
	sql               string // the aggregate as written in the grouped stage
	fields            []argField
}

type argField struct {
	pack   string // `fN := expr` inside struct_pack
	unpack string // `"_argK"."fN" AS "Col"` in the unpacking stage
	column string // the unpacked column's quoted SQL name
}

// prunedCTEs returns the stages with the unused fields of every arg_max and
// arg_min struct removed, given tail, the SQL that follows the stages. A
// column counts as used when its quoted name appears anywhere after the
// stage that unpacks it: every later stage names the columns it reads (a
// stage that passes all columns on is SELECT *, and the final SELECT names
// the output), so this can keep a field it need not keep, never drop one it
// needs. The first field, the maximised value, always stays.
func (c *compiler) prunedCTEs(tail string) []string {
	ctes := append([]string(nil), c.ctes...)
	// Latest first: a later struct that stops naming a column may free an
	// earlier one.
	for i := len(c.argStructs) - 1; i >= 0; i-- {
		a := c.argStructs[i]
		later := strings.Join(ctes[a.unpacked+1:], "\n") + "\n" + tail
		all := make([]string, len(a.fields))
		kept := []string{a.fields[0].pack}
		unpack := ctes[a.unpacked]
		for j, f := range a.fields {
			all[j] = f.pack
			if j == 0 {
				continue
			}
			if strings.Contains(later, f.column) {
				kept = append(kept, f.pack)
				continue
			}
			unpack = strings.Replace(unpack, ", "+f.unpack, "", 1)
		}
		if len(kept) == len(all) {
			continue
		}
		pruned := strings.Replace(a.sql, strings.Join(all, ", "), strings.Join(kept, ", "), 1)
		indent := func(s string) string { return strings.ReplaceAll(s, "\n", "\n  ") } // as addCTE writes
		ctes[a.grouped] = strings.Replace(ctes[a.grouped], indent(a.sql), indent(pruned), 1)
		ctes[a.unpacked] = unpack
	}
	return ctes
}
