package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/user"
	"strings"
	"time"

	"github.com/socq/socq/check"
	"github.com/socq/socq/engine"
	"github.com/socq/socq/server"
	"github.com/spf13/cobra"
)

type serveOptions struct {
	db           string
	addr         string
	tokenFile    string
	corsOrigin   string
	as           string
	maxBody      int64
	queryTimeout time.Duration
	checks       string // checks file behind the dashboard; "" for the example
}

func newServeCmd(ios *ioStreams) *cobra.Command {
	opts := &serveOptions{}
	cmd := &cobra.Command{
		Use:   "serve [--db FILE] [--addr 127.0.0.1:8080] [--token-file FILE]",
		Short: "Serve the Sentinel-shaped HTTP API and the web page",
		Long: `serve answers the incidents and tasks API in the shapes of Microsoft Sentinel's
REST API, KQL in the shape of the Log Analytics query API (POST /query), and
a web page for the SOC at /. Every change is recorded as the CLI records it.

Every API request needs 'Authorization: Bearer TOKEN'. Without --token-file a
read-write token is generated and printed once. A token file holds lines
'read TOKEN [NAME]' or 'write TOKEN [NAME]'; NAME is who changes made with the
token are recorded under. Listening on anything but loopback needs a token file.`,
		Example: `  socq serve --db history.duckdb
  socq serve --addr 0.0.0.0:8443 --token-file /etc/socq/tokens`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runServe(cmd.Context(), opts, ios)
		},
	}
	dbFlag(cmd, &opts.db)
	cmd.Flags().StringVar(&opts.addr, "addr", "127.0.0.1:8080", "address to listen on (host:port; port 0 picks a free one)")
	cmd.Flags().StringVar(&opts.tokenFile, "token-file", "", "file of bearer tokens: lines 'read TOKEN [NAME]' or 'write TOKEN [NAME]'")
	cmd.Flags().StringVar(&opts.corsOrigin, "cors-origin", "", "allow this one origin (https://host:port) to call the API from a browser; default no CORS")
	cmd.Flags().StringVar(&opts.as, "as", "", "who changes are recorded under when the token names nobody and the request has no X-Socq-User (default $SOCQ_USER, else the OS user)")
	cmd.Flags().Int64Var(&opts.maxBody, "max-body", 1<<20, "largest request body accepted, in bytes")
	cmd.Flags().DurationVar(&opts.queryTimeout, "query-timeout", time.Minute, "cancel a query running longer than this")
	cmd.Flags().StringVar(&opts.checks, "checks", "", "checks file (as socq check reads) behind the SOC metrics page (default the example examples/checks/soc-metrics.yaml)")
	return cmd
}

// isLoopback reports whether host (of host:port) listens on loopback only.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

func defaultActor(flag string) string {
	if flag != "" {
		return flag
	}
	if u := os.Getenv("SOCQ_USER"); u != "" {
		return u
	}
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return "socq serve"
}

func runServe(ctx context.Context, opts *serveOptions, ios *ioStreams) error {
	host, _, err := net.SplitHostPort(opts.addr)
	if err != nil {
		return failed(exitUsage, "--addr %q: want host:port, like 127.0.0.1:8080 (%v)", opts.addr, err)
	}
	if !isLoopback(host) && opts.tokenFile == "" {
		return failed(exitUsage, "--addr %s listens beyond this machine: give --token-file (a generated token printed on a terminal is for loopback only)", opts.addr)
	}
	if opts.maxBody < 1024 {
		return failed(exitUsage, "--max-body %d: want at least 1024 bytes", opts.maxBody)
	}
	if opts.corsOrigin != "" && !strings.HasPrefix(opts.corsOrigin, "http://") && !strings.HasPrefix(opts.corsOrigin, "https://") {
		return failed(exitUsage, "--cors-origin %q: want an origin like https://soc.example.com", opts.corsOrigin)
	}
	var checks []byte
	if opts.checks != "" {
		data, err := os.ReadFile(opts.checks)
		if errors.Is(err, os.ErrNotExist) {
			return failed(exitNotFound, "checks file %s does not exist", opts.checks)
		}
		if err != nil {
			return failed(exitFailed, "%v", err)
		}
		if _, err := check.Load(opts.checks, data); err != nil {
			return failed(exitUsage, "%v", err)
		}
		checks = data
	}
	var tokens []server.Token
	generated := false
	if opts.tokenFile != "" {
		f, err := os.Open(opts.tokenFile)
		if errors.Is(err, os.ErrNotExist) {
			return failed(exitNotFound, "token file %s does not exist", opts.tokenFile)
		}
		if err != nil {
			return failed(exitFailed, "%v", err)
		}
		tokens, err = server.ParseTokens(opts.tokenFile, f)
		f.Close()
		if err != nil {
			return failed(exitUsage, "%v", err)
		}
	} else {
		tok, err := server.GenerateToken()
		if err != nil {
			return failed(exitFailed, "%v", err)
		}
		tokens, generated = []server.Token{tok}, true
	}
	path, err := resolveDB(opts.db)
	if err != nil {
		return failed(exitUsage, "%v", err)
	}
	// The database stays open, and locked for writing, while serving: no
	// other socq process writes to it meanwhile.
	eopts := engine.Options{Command: "serve"}
	if isTerminal(ios.err) {
		eopts.Waiting = ios.err
	}
	db, err := engine.Open(ctx, path, eopts)
	var inUse *engine.InUseError
	if errors.As(err, &inUse) {
		return failed(exitFailed, "%v: stop it first, or serve another database", err)
	}
	if err != nil {
		return failed(exitFailed, "%v", err)
	}
	defer db.Close()
	srv, err := server.New(server.Config{DB: db, Tokens: tokens, DefaultActor: defaultActor(opts.as), CORSOrigin: opts.corsOrigin,
		MaxBody: opts.maxBody, QueryTimeout: opts.queryTimeout, Checks: checks, ChecksName: opts.checks, Log: log.New(ios.err, "socq serve: ", log.LstdFlags)})
	if err != nil {
		return failed(exitFailed, "%v", err)
	}
	ln, err := net.Listen("tcp", opts.addr)
	if err != nil {
		return failed(exitFailed, "listen on %s: %v", opts.addr, err)
	}
	base := "http://" + ln.Addr().String() + "/"
	fmt.Fprintf(ios.out, "socq serve: %s on %s\n", path, base)
	if generated {
		fmt.Fprintf(ios.out, "token (read-write, shown once): %s\nweb page: %s#token=%s\n", tokens[0].Value, base, tokens[0].Value)
	} else {
		fmt.Fprintf(ios.out, "tokens: %d from %s\n", len(tokens), opts.tokenFile)
	}
	hs := &http.Server{
		Handler:           srv,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      opts.queryTimeout + 30*time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          log.New(ios.err, "socq serve: ", log.LstdFlags),
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return failed(exitFailed, "serve: %v", err)
	case <-ctx.Done():
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		hs.Shutdown(shutdown)
		return ctx.Err()
	}
}
