// Command benchfmt turns `go test -bench` output into one figure a line,
// "name value unit", for make bench. A metric reported as
// b.ReportMetric(v, "pay_to_qr_median/ms") prints as "pay_to_qr_median v ms";
// standard metrics print under the benchmark's name ("ShowQR 1234 ns/op").
// Failures and panics are passed through, and make the exit status non-zero.
package main

import (
	"bufio"
	"fmt"
	"os"
	"strings"
)

func main() {
	failed := false
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		line := sc.Text()
		f := strings.Fields(line)
		switch {
		case len(f) >= 4 && strings.HasPrefix(f[0], "Benchmark"):
			name := strings.TrimPrefix(f[0], "Benchmark")
			if i := strings.LastIndex(name, "-"); i > 0 {
				name = name[:i]
			}
			for i := 2; i+1 < len(f); i += 2 {
				value, unit := f[i], f[i+1]
				if fig, u, ok := strings.Cut(unit, "/"); ok && !strings.HasSuffix(unit, "/op") {
					fmt.Printf("%s %s %s\n", fig, value, u)
				} else {
					fmt.Printf("%s %s %s\n", name, value, unit)
				}
			}
		case strings.HasPrefix(line, "--- FAIL"), strings.HasPrefix(line, "FAIL"), strings.HasPrefix(line, "panic:"):
			failed = true
			fmt.Fprintln(os.Stderr, line)
		case strings.HasPrefix(line, "#"), strings.Contains(line, "cannot"), strings.Contains(line, "error"):
			fmt.Fprintln(os.Stderr, line)
		}
	}
	if failed {
		os.Exit(1)
	}
}
