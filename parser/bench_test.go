package parser

import "testing"

// BenchmarkParse parses every query of testdata/corpus that parses (real
// public SecurityIncident queries: workbooks, hunting queries, Microsoft's
// docs, some with workbook parameters filled in) and reports the mean time
// per query.
func BenchmarkParse(b *testing.B) {
	var queries []string
	for _, q := range corpusQueries(b) {
		if _, err := Parse(q); err == nil {
			queries = append(queries, q)
		}
	}
	if len(queries) == 0 {
		b.Fatal("no corpus query parses")
	}
	for b.Loop() {
		for _, q := range queries {
			if _, err := Parse(q); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(queries)), "ns/query")
}
