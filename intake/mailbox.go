package intake

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// RawMessage is one message as read from a file, a Maildir or an mbox.
type RawMessage struct {
	Place string // where it is, for messages: FILE, or FILE:LINE in an mbox
	Data  []byte
}

// ErrNotMaildir is a --mailbox directory without cur/ and new/.
var ErrNotMaildir = errors.New("not a Maildir (it has neither cur/ nor new/)")

// MaildirFiles lists the messages of a Maildir: the files of cur/ and
// new/ (tmp/ holds messages still being delivered), sorted by name within
// each, cur/ first. Hidden files are ignored, as Maildir readers do.
func MaildirFiles(dir string) ([]string, error) {
	if st, err := os.Stat(dir); err != nil {
		return nil, err
	} else if !st.IsDir() {
		return nil, fmt.Errorf("%s: %w", dir, ErrNotMaildir)
	}
	var files []string
	found := false
	for _, sub := range []string{"cur", "new"} {
		entries, err := os.ReadDir(filepath.Join(dir, sub))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read Maildir %s: %w", dir, err)
		}
		found = true
		var names []string
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), ".") || !e.Type().IsRegular() {
				continue
			}
			names = append(names, e.Name())
		}
		sort.Strings(names)
		for _, n := range names {
			files = append(files, filepath.Join(dir, sub, n))
		}
	}
	if !found {
		return nil, fmt.Errorf("%s: %w", dir, ErrNotMaildir)
	}
	return files, nil
}

// maxMessage bounds the size of one message read from an mbox or a file.
const maxMessage = 256 << 20

// MboxReader reads the messages of an mbox file one at a time. A message
// starts at a "From " line at the start of the file or after a blank line;
// ">From " lines (mboxrd and mboxo quoting) lose one ">".
type MboxReader struct {
	name    string
	r       *bufio.Reader
	line    int    // lines read so far
	next    []byte // the "From " line that starts the next message
	nextAt  int
	started bool
	err     error
}

// NewMboxReader reads r; name is used in the places of the messages.
func NewMboxReader(r io.Reader, name string) *MboxReader {
	return &MboxReader{name: name, r: bufio.NewReaderSize(r, 64*1024)}
}

// PlaceError is input that could not be read, and where: FILE or
// FILE:LINE (Importer.Reject reports it as one).
type PlaceError struct {
	Place string
	Err   error
}

func (e *PlaceError) Error() string { return e.Place + ": " + e.Err.Error() }
func (e *PlaceError) Unwrap() error { return e.Err }

// ErrNotMbox is a file that does not start with a "From " line.
var ErrNotMbox = errors.New(`not an mbox file (it does not start with a "From " line)`)

// Next returns the next message, or io.EOF after the last one. Its other
// errors are *PlaceError.
func (m *MboxReader) Next() (*RawMessage, error) {
	if m.err != nil {
		return nil, m.err
	}
	if !m.started {
		m.started = true
		line, err := m.readLine()
		for err == nil && len(bytes.TrimSpace(line)) == 0 {
			line, err = m.readLine()
		}
		if err != nil && len(line) == 0 {
			if err == io.EOF {
				err = ErrNotMbox
			}
			m.err = &PlaceError{m.name, err}
			return nil, m.err
		}
		if !bytes.HasPrefix(line, []byte("From ")) {
			m.err = &PlaceError{m.name, ErrNotMbox}
			return nil, m.err
		}
		m.next, m.nextAt = line, m.line
	}
	if m.next == nil {
		m.err = io.EOF
		return nil, io.EOF
	}
	at := m.nextAt
	m.next = nil
	var body bytes.Buffer
	blank := false // the previous line was blank
	for {
		line, err := m.readLine()
		if len(line) > 0 || err == nil {
			if blank && bytes.HasPrefix(line, []byte("From ")) {
				m.next, m.nextAt = line, m.line
				break
			}
			trimmed := bytes.TrimRight(line, "\r\n")
			blank = len(trimmed) == 0
			if q := bytes.TrimLeft(trimmed, ">"); len(q) < len(trimmed) && bytes.HasPrefix(q, []byte("From ")) {
				line = line[1:]
			}
			if body.Len()+len(line) > maxMessage {
				m.err = &PlaceError{fmt.Sprintf("%s:%d", m.name, at), fmt.Errorf("a message longer than %d MiB", maxMessage>>20)}
				return nil, m.err
			}
			body.Write(line)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			m.err = &PlaceError{m.name, fmt.Errorf("read: %w", err)}
			return nil, m.err
		}
	}
	data := body.Bytes()
	// The blank line before the next "From " line separates messages; it
	// is not part of the message.
	if m.next != nil {
		switch {
		case bytes.HasSuffix(data, []byte("\r\n\r\n")):
			data = data[:len(data)-2]
		case bytes.HasSuffix(data, []byte("\n\n")):
			data = data[:len(data)-1]
		}
	}
	return &RawMessage{Place: fmt.Sprintf("%s:%d", m.name, at), Data: data}, nil
}

// readLine reads one line with its line break.
func (m *MboxReader) readLine() ([]byte, error) {
	line, err := m.r.ReadBytes('\n')
	if len(line) > 0 {
		m.line++
	}
	return line, err
}

// ReadMessageFile reads one message file.
func ReadMessageFile(path string) (*RawMessage, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxMessage+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if len(data) > maxMessage {
		return nil, fmt.Errorf("%s: a message longer than %d MiB", path, maxMessage>>20)
	}
	return &RawMessage{Place: path, Data: data}, nil
}
