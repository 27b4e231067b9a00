// Command socq-loadtest runs socq serve under load on 127.0.0.1 and
// reports the latencies, optionally into BENCHMARKS.md:
//
//	go run ./server/loadtest/cmd/socq-loadtest -clients 50 -duration 10s -benchmarks BENCHMARKS.md
//
// It exits 1 when a request failed or an update was lost.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"time"

	"github.com/socq/socq/server/loadtest"
)

func main() {
	clients := flag.Int("clients", 50, "concurrent clients")
	duration := flag.Duration("duration", 10*time.Second, "how long the clients run")
	incidents := flag.Int("incidents", 20, "incidents seeded before the run")
	benchmarks := flag.String("benchmarks", "", "write the result as a section of this Markdown file (BENCHMARKS.md)")
	flag.Parse()
	if *clients < 1 || *clients > 500 || *duration <= 0 || *duration > 10*time.Minute {
		fmt.Fprintln(os.Stderr, "socq-loadtest: -clients 1..500 and -duration up to 10m")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	dir, err := os.MkdirTemp("", "socq-loadtest-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "socq-loadtest:", err)
		os.Exit(1)
	}
	defer os.RemoveAll(dir)
	res, err := loadtest.Run(ctx, loadtest.Config{Clients: *clients, Duration: *duration, Incidents: *incidents, Dir: dir, Seed: uint64(time.Now().UnixNano())})
	if err != nil {
		fmt.Fprintln(os.Stderr, "socq-loadtest:", err)
		os.Exit(1)
	}
	section := res.Markdown(time.Now())
	fmt.Print(section)
	if *benchmarks != "" {
		if err := loadtest.UpdateFile(*benchmarks, section); err != nil {
			fmt.Fprintln(os.Stderr, "socq-loadtest:", err)
			os.Exit(1)
		}
		fmt.Fprintln(os.Stderr, "wrote the section to", *benchmarks)
	}
	if msg := res.Failed(); msg != "" {
		fmt.Fprint(os.Stderr, msg)
		os.Exit(1)
	}
}
