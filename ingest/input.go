package ingest

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// stdinName names standard input ("-") in reports.
const stdinName = "<stdin>"

// input is one file to load, resolved to a plain local file DuckDB may read.
type input struct {
	name    string // as the user gave it; stdinName for "-"
	path    string // absolute path of the uncompressed content
	format  Format
	columns []string // the column names of a CSV header or an API response
	// ends says whether a JSON input ends as its format requires. DuckDB
	// reads a few truncated files without complaint (an array missing its
	// "]" after a comma), so only Go reads those that do not.
	ends bool
}

// resolve checks the file called name ("-" for stdin) and detects its
// format. Standard input and gzip files are copied, uncompressed, into dir.
func resolve(t *target, name string, stdin io.Reader, dir string) (*input, error) {
	in := &input{name: name}
	if name == "-" {
		in.name = stdinName
		if stdin == nil {
			return nil, fmt.Errorf("%s: no standard input to read", in.name)
		}
		path, err := spool(bufio.NewReaderSize(stdin, sniffSize), dir)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", in.name, err)
		}
		in.path = path
	} else {
		path, err := plainFile(name, dir)
		if err != nil {
			return nil, err
		}
		in.path = path
	}
	if err := in.sniff(t); err != nil {
		return nil, fmt.Errorf("%s: %w", in.name, err)
	}
	return in, nil
}

// plainFile returns the absolute path of the file called name, or of a copy
// in dir when it is gzip (uncompressed) or not a regular file (a pipe, which
// cannot be read twice).
func plainFile(name, dir string) (string, error) {
	if info, err := os.Stat(name); err == nil && info.Mode()&fs.ModeSocket != 0 {
		return "", fmt.Errorf("%s: is a socket, not a file", name)
	}
	f, err := os.Open(name)
	if err != nil {
		var pathErr *fs.PathError
		if errors.As(err, &pathErr) {
			err = pathErr.Err
		}
		return "", fmt.Errorf("%s: %w", name, err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return "", fmt.Errorf("%s: %w", name, err)
	}
	if info.IsDir() {
		return "", fmt.Errorf("%s: is a directory, not a file", name)
	}
	br := bufio.NewReaderSize(f, sniffSize)
	if isGzip(br) || !info.Mode().IsRegular() {
		path, err := spool(br, dir)
		if err != nil {
			return "", fmt.Errorf("%s: %w", name, err)
		}
		return path, nil
	}
	path, err := filepath.Abs(name)
	if err != nil {
		return "", fmt.Errorf("%s: %w", name, err)
	}
	return path, nil
}

// spool copies br, uncompressed, to a new file in dir.
func spool(br *bufio.Reader, dir string) (path string, err error) {
	r, err := uncompressed(br)
	if err != nil {
		return "", err
	}
	f, err := os.CreateTemp(dir, "input-*")
	if err != nil {
		return "", err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}()
	if _, err := io.Copy(f, r); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) && r != br {
			return "", errors.New("gzip: unexpected end of the compressed data (the file is truncated)")
		}
		return "", err
	}
	return filepath.Abs(f.Name())
}

// uncompressed returns the content br reads, uncompressed when it is gzip.
func uncompressed(br *bufio.Reader) (*bufio.Reader, error) {
	if !isGzip(br) {
		return br, nil
	}
	zr, err := gzip.NewReader(br)
	if err != nil {
		return nil, err
	}
	return bufio.NewReaderSize(zr, sniffSize), nil
}

// sniff detects the input's format and reads its column names, if a header
// gives them.
func (in *input) sniff(t *target) error {
	f, err := os.Open(in.path)
	if err != nil {
		return err
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, sniffSize)
	if in.format, err = sniff(br); err != nil {
		return err
	}
	if in.ends, err = endsWith(f, in.format.lastByte()); err != nil {
		return err
	}
	if in.format != CSV && in.format != APIResponse {
		return nil
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	br.Reset(f)
	// The header is all we want: stop at the first record. An API response
	// may list its columns after its rows; DuckDB does not read those.
	header, err := scannerFor(in.format)(br, func(record) bool { return false })
	if err != nil || (in.format == APIResponse && header == nil) {
		return err
	}
	in.columns, err = columnNames(t, in.format, header)
	return err
}

// endsWith reports whether the last byte of f that is not white space is
// last; with last 0 it reports true.
func endsWith(f *os.File, last byte) (bool, error) {
	if last == 0 {
		return true, nil
	}
	info, err := f.Stat()
	if err != nil {
		return false, err
	}
	buf := make([]byte, 4096)
	for end := info.Size(); end > 0; {
		start := max(end-int64(len(buf)), 0)
		n, err := f.ReadAt(buf[:end-start], start)
		if err != nil && !errors.Is(err, io.EOF) {
			return false, err
		}
		if text := bytes.TrimRight(buf[:n], " \t\r\n"); len(text) > 0 {
			return text[len(text)-1] == last, nil
		}
		end = start
	}
	return false, nil
}

// columnNames turns the column names of a header into the table's names:
// it drops the " [UTC]" suffix of CSV exports and refuses local times.
func columnNames(t *target, f Format, header []string) ([]string, error) {
	if len(header) == 0 {
		return nil, errors.New("no column names")
	}
	if f != CSV {
		return header, nil
	}
	names := make([]string, len(header))
	known := false
	for i, cell := range header {
		name, err := headerName(cell)
		if err != nil {
			return nil, err
		}
		names[i] = name
		known = known || t.has(name)
	}
	if !known {
		return nil, fmt.Errorf("not NDJSON, JSON or CSV with a header naming %s columns", t.table.Name)
	}
	return names, nil
}
