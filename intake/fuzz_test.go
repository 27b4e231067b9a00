package intake

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/socq/socq/incident"
)

// addFixtureSeeds adds every fixture file matching pattern as a seed.
func addFixtureSeeds(f *testing.F, patterns ...string) {
	for _, p := range patterns {
		files, err := filepath.Glob(filepath.Join(fixtures, p))
		if err != nil {
			f.Fatal(err)
		}
		for _, file := range files {
			data, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
}

// FuzzParseMessage: any bytes either are refused with a MalformedError or
// make an incident whose title is set and whose description is valid text
// within Sentinel's limit.
func FuzzParseMessage(f *testing.F) {
	addFixtureSeeds(f, "*.eml", "maildir/*/*")
	f.Add([]byte("From: a@b.org\nContent-Type: multipart/mixed; boundary=x\n\n--x\nContent-Type: multipart/alternative; boundary=y\n\n--y\n\nhi\n--y--\n--x--\n"))
	f.Add([]byte("From: =?utf-8?q?=C3?= <a@b.org>\nSubject: =?iso-8859-1?b?4+Q=?=\nContent-Transfer-Encoding: quoted-printable\n\n=E4=\n=ZZ\n"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		m, err := ParseMessage(raw)
		if err != nil {
			var me *MalformedError
			if !errors.As(err, &me) || me.Reason == "" {
				t.Fatalf("error %T %v, want a MalformedError with a reason", err, err)
			}
			return
		}
		in := m.NewIncident("f.eml", MailOptions{})
		if strings.TrimSpace(in.Title) == "" {
			t.Errorf("empty title for %q", raw)
		}
		if n := utf8.RuneCountInString(in.Description); n > incident.MaxDescription {
			t.Errorf("description of %d characters", n)
		}
		for _, s := range []string{in.Title, in.Description, m.From.Address, m.MessageID} {
			if !utf8.ValidString(s) || strings.ContainsRune(s, 0) {
				t.Errorf("invalid text %q", s)
			}
		}
		if strings.ContainsAny(in.ExternalID, "\r\n") {
			t.Errorf("external id on two lines: %q", in.ExternalID)
		}
	})
}

// FuzzHTMLToText: converting never panics and gives valid text.
func FuzzHTMLToText(f *testing.F) {
	f.Add("<p>a<br>b</p><a href='https://x'>y</a><pre> p </pre><table><tr><td>1<td>2</table>")
	f.Add("<script>x</script><style>")
	f.Fuzz(func(t *testing.T, s string) {
		out := HTMLToText(s)
		if utf8.ValidString(s) && !utf8.ValidString(out) {
			t.Errorf("invalid UTF-8 from valid input")
		}
	})
}

// FuzzMbox: splitting never panics; each message comes with a place of its
// file and a line within it.
func FuzzMbox(f *testing.F) {
	addFixtureSeeds(f, "*.mbox")
	f.Add([]byte("From a\n\nFrom b\n>From c\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r := NewMboxReader(bytes.NewReader(data), "f.mbox")
		for i := 0; ; i++ {
			m, err := r.Next()
			if err != nil {
				if err != io.EOF && !strings.HasPrefix(err.Error(), "f.mbox") {
					t.Fatalf("error without the file name: %v", err)
				}
				return
			}
			if !strings.HasPrefix(m.Place, "f.mbox:") {
				t.Fatalf("place %q", m.Place)
			}
			if i > len(data) {
				t.Fatal("more messages than bytes")
			}
		}
	})
}

// FuzzReadForm: any file either is refused as a whole or reads into
// submissions and rejects with lines in the file, in order, as valid text.
func FuzzReadForm(f *testing.F) {
	addFixtureSeeds(f, "*.csv", "*.json")
	f.Add([]byte("title;tags\n\"a\n\";x,y\n"))
	f.Add([]byte("{\"title\":\"a\"}\n{\"title\":1}\n[]"))
	f.Add([]byte("{\"value\":[{\"title\":\"a\",\"tags\":[1,null]}]}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		form, err := ReadForm(bytes.NewReader(data), nil)
		if err != nil {
			return
		}
		lines := 1 + bytes.Count(data, []byte("\n"))
		last := 0
		for _, s := range form.Submissions {
			if s.Line < 1 || s.Line > lines || s.Line < last {
				t.Fatalf("submission line %d (file has %d lines, previous %d)", s.Line, lines, last)
			}
			last = s.Line
			in := s.NewIncident("", "f")
			for _, v := range []string{in.Title, in.Description, in.Owner, in.Severity} {
				if !utf8.ValidString(v) {
					t.Fatalf("invalid UTF-8 %q", v)
				}
			}
		}
		for _, r := range form.Rejects {
			if r.Line < 0 || r.Line > lines || r.Reason == "" {
				t.Fatalf("reject %+v (file has %d lines)", r, lines)
			}
		}
	})
}
