package engine

import (
	"maps"
	"slices"
	"testing"

	"github.com/socq/socq/parser"
)

func TestRestReads(t *testing.T) {
	tests := []struct {
		name string
		rest string // the operators after bag_unpack
		want []string
		all  bool // every column reaches the result
		bail bool // reads cannot be told by name
	}{
		{"project cuts", "| where status != 'Done' | project title, Owner.name", []string{"status", "Done", "title", "Owner"}, false, false},
		{"nothing cuts", "| where x > 1 | extend y = z", nil, true, false},
		{"no operators", "", nil, true, false},
		{"arg_max star carries, project cuts", "| summarize arg_max(t, *) by id | project a", []string{"t", "id", "a"}, false, false},
		{"arg_max star and nothing cuts", "| summarize arg_max(t, *) by id", nil, true, false},
		{"summarize cuts", "| summarize n = count() by k", []string{"k"}, false, false},
		{"column_ifexists names by string", "| project v = column_ifexists('c', 0)", []string{"c"}, false, false},
		{"count cuts", "| count", []string{}, false, false},
		{"distinct cuts", "| distinct a, b", []string{"a", "b"}, false, false},
		{"distinct star", "| distinct *", nil, false, true},
		{"pack_all", "| extend b = pack_all() | project b", nil, false, true},
		{"star has", "| where * has 'x' | project a", nil, false, true},
		{"wildcard project-away", "| project-away Ten* | project a", nil, false, true},
		{"join", "| join (SecurityIncident) on IncidentNumber | project a", nil, false, true},
		{"toscalar", "| where a > toscalar(SecurityIncident | count) | project a", nil, false, true},
		{"project-rename carries", "| project-rename New = Old", nil, true, false},
		{"project-keep cuts", "| project-keep a, b", []string{"a", "b"}, false, false},
	}
	for _, tt := range tests {
		q, err := parser.Parse("SecurityIncident | evaluate bag_unpack(Tasks) " + tt.rest)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		c := &compiler{funcs: map[string]*parser.Func{}}
		reads, ok := c.restReads(q.Pipe.Ops[1:])
		switch {
		case tt.bail:
			if ok {
				t.Errorf("%s: restReads = %v, want it to give up", tt.name, slices.Sorted(maps.Keys(reads)))
			}
		case !ok:
			t.Errorf("%s: restReads gave up", tt.name)
		case tt.all:
			if reads != nil {
				t.Errorf("%s: restReads = %v, want all columns", tt.name, slices.Sorted(maps.Keys(reads)))
			}
		default:
			for _, name := range tt.want {
				if !reads[name] {
					t.Errorf("%s: restReads lacks %q: %v", tt.name, name, slices.Sorted(maps.Keys(reads)))
				}
			}
			if reads == nil {
				t.Errorf("%s: restReads = all columns, want some", tt.name)
			}
		}
	}
}

func TestWorthStaging(t *testing.T) {
	tests := []struct {
		before string // the query up to bag_unpack
		want   bool
	}{
		{"SecurityIncident", false},
		{"SecurityIncident | where Status == 'Closed' | mv-expand Tasks | extend x = 1 | project Tasks", false},
		{"SecurityIncident | summarize arg_max(TimeGenerated, *) by IncidentNumber | mv-expand Tasks", true},
		{"SecurityIncident | join (SecurityIncident) on IncidentNumber", true},
		{"SecurityIncident | distinct Tasks", true},
		{"let T = SecurityIncident | where Status == 'New'; T | mv-expand Tasks", true},
		{"(SecurityIncident | summarize take_any(Tasks) by IncidentNumber) | where true", true},
		{"(SecurityIncident | where true) | mv-expand Tasks", false},
	}
	for _, tt := range tests {
		q, err := parser.Parse(tt.before + " | evaluate bag_unpack(Tasks)")
		if err != nil {
			t.Fatalf("%s: %v", tt.before, err)
		}
		c := &compiler{cat: DefaultCatalog(), funcs: map[string]*parser.Func{}, tables: map[string]tabularLet{}}
		for _, l := range q.Lets {
			c.tables[l.Name.Name] = tabularLet{pipe: l.Pipe}
		}
		ops := q.Pipe.Ops
		if got := c.worthStaging(q.Pipe.Source, ops[:len(ops)-1]); got != tt.want {
			t.Errorf("%s: worthStaging = %v, want %v", tt.before, got, tt.want)
		}
	}
}
