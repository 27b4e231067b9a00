package check

import (
	"errors"
	"os"
	"strings"
	"testing"
)

// FuzzLoad feeds the checks-file loader arbitrary text: it must never
// panic, an invalid file must be a *FileError whose problems point at lines
// of the file, and a file it accepts must hold only runnable checks.
func FuzzLoad(f *testing.F) {
	if data, err := os.ReadFile("../examples/checks/soc-metrics.yaml"); err == nil {
		f.Add(string(data))
	}
	for _, seed := range []string{
		"",
		"checks:\n  - name: a\n    query: q\n    max: 1\n",
		"checks:\n  - {name: a, query: q, expect: empty}\n",
		"params: {TimeRange: 7d, 2x: 1}\nchecks:\n  - name: a\n    query: q\n    warn_max: 2h\n    max: 1h\n",
		"checks:\n  - name: a\n    query: q\n    max: [1]\n  - max: 1\n",
		"checks:\n  - &a {name: a, query: q, max: 1}\n  - *a\n",
		"checks:\n  - !!map {name: a, query: q, equals: true}\n",
		"checks: [\n",
		"- a\n---\n- b\n",
		"checks:\n  - name: a\n    query: |\n      x\n    min: .inf\n",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, text string) {
		file, err := Load("f.yaml", []byte(text))
		if err != nil {
			var ferr *FileError
			if !errors.As(err, &ferr) {
				t.Fatalf("error is %T, not a *FileError: %v", err, err)
			}
			if len(ferr.Problems) == 0 {
				t.Fatal("a FileError without problems")
			}
			// YAML breaks lines at \n, \r\n and a lone \r.
			breaks := strings.ReplaceAll(text, "\r\n", "\n")
			lines := strings.Count(breaks, "\n") + strings.Count(breaks, "\r") + 1
			for _, p := range ferr.Problems {
				if p.Line < 0 || p.Line > lines+1 || p.Msg == "" {
					t.Fatalf("problem at line %d of %d: %q", p.Line, lines, p.Msg)
				}
			}
			return
		}
		if len(file.Checks) == 0 {
			t.Fatal("accepted a file without checks")
		}
		for _, c := range file.Checks {
			limits := c.Max != nil || c.Min != nil || c.WarnMax != nil || c.WarnMin != nil || c.Equals != nil
			if c.Name == "" || strings.TrimSpace(c.Query) == "" || c.ExpectEmpty == limits {
				t.Fatalf("accepted a check that cannot run: %+v", c)
			}
			if c.Severity != SeverityError && c.Severity != SeverityWarning {
				t.Fatalf("severity %q", c.Severity)
			}
		}
	})
}
