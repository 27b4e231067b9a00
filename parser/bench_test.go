package parser

import "testing"

// BenchmarkParse parses a typical audit query.
func BenchmarkParse(b *testing.B) {
	q := "SecurityIncident\n| where array_length( Tasks) > 0\n| where IncidentNumber == \"405211\"\n| sort by LastModifiedTime desc\n| project IncidentName, Title, LastModifiedTime, Tasks"
	for b.Loop() {
		if _, err := Parse(q); err != nil {
			b.Fatal(err)
		}
	}
}
