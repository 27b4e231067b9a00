package intake

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestMaildirFiles(t *testing.T) {
	files, err := MaildirFiles(filepath.Join(fixtures, "maildir"))
	if err != nil {
		t.Fatal(err)
	}
	var rel []string
	for _, f := range files {
		r, _ := filepath.Rel(fixtures, f)
		rel = append(rel, filepath.ToSlash(r))
	}
	want := []string{"maildir/cur/1733562000.M1P100.mx!2,S", "maildir/new/1733565600.M2P100.mx", "maildir/new/1733569200.M3P100.mx"}
	if !reflect.DeepEqual(rel, want) {
		t.Errorf("files %q, want %q", rel, want)
	}

	// tmp/ and hidden files are not read; a Maildir with only new/ is one.
	dir := t.TempDir()
	for _, p := range []string{"new/b", "new/a", "new/.hidden", "tmp/partial"} {
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, p), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	files, err = MaildirFiles(dir)
	if err != nil || len(files) != 2 || filepath.Base(files[0]) != "a" {
		t.Errorf("files %q, %v", files, err)
	}
	if _, err := MaildirFiles(t.TempDir()); !errors.Is(err, ErrNotMaildir) {
		t.Errorf("an empty directory: %v, want ErrNotMaildir", err)
	}
	if _, err := MaildirFiles(filepath.Join(dir, "new", "a")); !errors.Is(err, ErrNotMaildir) {
		t.Errorf("a file: %v, want ErrNotMaildir", err)
	}
	if _, err := MaildirFiles(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a missing directory: %v, want not exist", err)
	}
}

func readMbox(t *testing.T, data, name string) ([]*RawMessage, error) {
	t.Helper()
	r := NewMboxReader(strings.NewReader(data), name)
	var out []*RawMessage
	for {
		m, err := r.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, m)
	}
}

func TestMboxFixture(t *testing.T) {
	msgs, err := readMbox(t, string(readFixture(t, "requests.mbox")), "requests.mbox")
	if err != nil {
		t.Fatal(err)
	}
	var places, subjects []string
	for _, raw := range msgs {
		m, err := ParseMessage(raw.Data)
		if err != nil {
			t.Fatalf("%s: %v", raw.Place, err)
		}
		places = append(places, raw.Place)
		subjects = append(subjects, m.Subject)
		if strings.HasSuffix(string(raw.Data), "\n\n") {
			t.Errorf("%s: the separating blank line is part of the message", raw.Place)
		}
	}
	if !reflect.DeepEqual(places, []string{"requests.mbox:1", "requests.mbox:10", "requests.mbox:20"}) {
		t.Errorf("places %q", places)
	}
	if !reflect.DeepEqual(subjects, []string{"Lost phone", "Strange forwarding rule", "USB stick"}) {
		t.Errorf("subjects %q", subjects)
	}
	second, _ := ParseMessage(msgs[1].Data)
	if !strings.Contains(second.Body, "\nFrom now on, forward everything") {
		t.Errorf(">From not unquoted: %q", second.Body)
	}
}

func TestMbox(t *testing.T) {
	tests := []struct {
		name   string
		data   string
		bodies []string
		err    string
	}{
		{"CRLF, blank lines before the first message",
			"\r\nFrom a Mon\r\nSubject: 1\r\n\r\none\r\n\r\nFrom b Tue\r\nSubject: 2\r\n\r\ntwo\r\n",
			[]string{"Subject: 1\r\n\r\none\r\n", "Subject: 2\r\n\r\ntwo\r\n"}, ""},
		{"a From line inside a paragraph is body text",
			"From a\nSubject: 1\n\nline\nFrom here on\n",
			[]string{"Subject: 1\n\nline\nFrom here on\n"}, ""},
		{"mboxrd: >>From loses one >",
			"From a\nSubject: 1\n\n>>From x\n>From y\n",
			[]string{"Subject: 1\n\n>From x\nFrom y\n"}, ""},
		{"no final newline", "From a\nSubject: 1\n\nend", []string{"Subject: 1\n\nend"}, ""},
		{"not an mbox", "Subject: 1\n\nx\n", nil, "x.mbox: not an mbox file"},
		{"empty", "", nil, "x.mbox: not an mbox file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msgs, err := readMbox(t, tt.data, "x.mbox")
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err %v, want %q", err, tt.err)
				}
				var perr *PlaceError
				if !errors.As(err, &perr) || perr.Place != "x.mbox" || !errors.Is(err, ErrNotMbox) {
					t.Errorf("err %#v, want a *PlaceError at x.mbox wrapping ErrNotMbox", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var bodies []string
			for _, m := range msgs {
				bodies = append(bodies, string(m.Data))
			}
			if !reflect.DeepEqual(bodies, tt.bodies) {
				t.Errorf("messages %q, want %q", bodies, tt.bodies)
			}
		})
	}
}
