// Command socq loads Microsoft Sentinel SecurityIncident history into an
// embedded DuckDB file and answers KQL over it.
package main

import "os"

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
