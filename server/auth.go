package server

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Token is a bearer token and what it may do.
type Token struct {
	Value string
	Write bool   // read-write; false: read-only (GET and POST /query)
	Name  string // the person changes made with it are recorded under; "" for none
}

// MinTokenLength is the shortest token a token file may hold.
const MinTokenLength = 16

// ParseTokens reads a token file: one token a line, "read TOKEN [NAME]" or
// "write TOKEN [NAME]"; blank lines and lines starting with # are skipped.
// NAME (the rest of the line) is who changes made with the token are
// recorded under, e.g. mei.lin@contoso.com.
func ParseTokens(name string, r io.Reader) ([]Token, error) {
	var out []Token
	seen := map[string]int{}
	sc := bufio.NewScanner(r)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		fields := strings.Fields(text)
		if len(fields) < 2 {
			return nil, fmt.Errorf("%s:%d: want 'read TOKEN [NAME]' or 'write TOKEN [NAME]'", name, line)
		}
		var tok Token
		switch strings.ToLower(fields[0]) {
		case "read":
		case "write":
			tok.Write = true
		default:
			return nil, fmt.Errorf("%s:%d: %q: the access must be read or write", name, line, fields[0])
		}
		tok.Value = fields[1]
		if len(tok.Value) < MinTokenLength {
			return nil, fmt.Errorf("%s:%d: the token is %d characters long; use at least %d (e.g. openssl rand -hex 32)", name, line, len(tok.Value), MinTokenLength)
		}
		if prev, dup := seen[tok.Value]; dup {
			return nil, fmt.Errorf("%s:%d: the same token as line %d", name, line, prev)
		}
		seen[tok.Value] = line
		tok.Name = strings.Join(fields[2:], " ")
		out = append(out, tok)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no tokens (want lines 'read TOKEN [NAME]' or 'write TOKEN [NAME]')", name)
	}
	return out, nil
}

// GenerateToken makes a random read-write token (256 bits).
func GenerateToken() (Token, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return Token{}, fmt.Errorf("generate a token: %w", err)
	}
	return Token{Value: base64.RawURLEncoding.EncodeToString(b), Write: true}, nil
}

// authenticator compares bearer tokens in constant time: every known token
// is compared (as a SHA-256 digest, so lengths do not leak) on every request.
type authenticator struct {
	tokens  []Token
	digests [][32]byte
}

func newAuthenticator(tokens []Token) (*authenticator, error) {
	a := &authenticator{tokens: tokens}
	for _, t := range tokens {
		if t.Value == "" {
			return nil, errors.New("server: empty token")
		}
		a.digests = append(a.digests, sha256.Sum256([]byte(t.Value)))
	}
	return a, nil
}

// check returns the token an Authorization header carries.
func (a *authenticator) check(header string) (*Token, bool) {
	scheme, value, ok := strings.Cut(strings.TrimSpace(header), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return nil, false
	}
	got := sha256.Sum256(bytes.TrimSpace([]byte(value)))
	found := -1
	for i, d := range a.digests {
		if subtle.ConstantTimeCompare(got[:], d[:]) == 1 {
			found = i
		}
	}
	if found < 0 {
		return nil, false
	}
	return &a.tokens[found], true
}
