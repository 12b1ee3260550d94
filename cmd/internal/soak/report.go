package main

import (
	"fmt"
	"sort"
	"strings"
)

// report holds the run's figures and every discrepancy found.
type report struct {
	seed          uint64
	ops           map[string]int // operations the soak made
	crashes       map[string]int // named crash points and random kills
	faults        map[string]int // fault episodes by kind
	flows         map[string]int // kassed starts of SOAK1 per flow
	badReplies    map[string]int // replies the proxy falsified, by kind
	capturedBy    map[string]int // captured payments at Vipps by API and user flow
	sales         int
	captured      int
	refunds       int
	copyOnly      int    // receipts and slips printed only as a COPY (a print:sent crash)
	scanned       [3]int // secret scan: texts, bytes, access tokens known
	netHeld       int64  // what Vipps holds, captured − refunded, in øre
	journaled     int    // signed cash transactions in the electronic journals, each once
	external      int    // graceful stops by signals the soak did not send
	discrepancies []string
}

func newReport(seed uint64) *report {
	return &report{seed: seed, ops: map[string]int{}, crashes: map[string]int{}, faults: map[string]int{},
		flows: map[string]int{}, badReplies: map[string]int{}, capturedBy: map[string]int{}}
}

// paths groups crash points by the money path they interrupt.
func (r *report) paths() map[string]int {
	m := map[string]int{}
	for name, n := range r.crashes {
		switch {
		case strings.Contains(name, "capture"):
			m["capture"] += n
		case strings.Contains(name, "refund"):
			m["refund"] += n
		case strings.HasPrefix(name, "print"):
			m["print"] += n
		case strings.Contains(name, "create"), strings.Contains(name, "initiate"):
			m["create"] += n
		case strings.Contains(name, "cancel"):
			m["cancel"] += n
		case strings.Contains(name, "receipt"):
			m["receipt"] += n
		default:
			m["other"] += n
		}
	}
	return m
}

// print writes the figures and, last, the three lines the issue asks for.
func (r *report) print() {
	fmt.Printf("seed %d\n", r.seed)
	fmt.Printf("operations %d %s\n", sum(r.ops), show(r.ops))
	fmt.Printf("crash points by name %s\n", show(r.crashes))
	fmt.Printf("crash points by path %s\n", show(r.paths()))
	if r.external > 0 {
		fmt.Printf("kassed stopped %d times by signals from outside the soak (not counted as crash points)\n", r.external)
	}
	fmt.Printf("fault episodes by kind %s\n", show(r.faults))
	fmt.Printf("bad replies sent %d %s\n", sum(r.badReplies), show(r.badReplies))
	fmt.Printf("SOAK1 starts by flow %s\n", show(r.flows))
	pct := 0
	if r.sales > 0 {
		pct = 100 * r.captured / r.sales
	}
	fmt.Printf("sales %d, captured %d (%d%%), refunds %d; Vipps holds %d øre net\n", r.sales, r.captured, pct, r.refunds, r.netHeld)
	fmt.Printf("captured at Vipps by API and flow %s\n", show(r.capturedBy))
	fmt.Printf("electronic journal: %d signed cash transactions, every chain verified, sums equal Vipps's\n", r.journaled)
	fmt.Printf("receipts: %d receipts or slips printed only as a COPY, %d print:sent crashes\n", r.copyOnly, r.crashes["print:sent"])
	fmt.Printf("secret scan: %d texts (logs, status and control replies), %d bytes, %d access tokens looked for\n",
		r.scanned[0], r.scanned[1], r.scanned[2])
	for i, d := range r.discrepancies {
		if i == 300 {
			fmt.Printf("  … and %d more\n", len(r.discrepancies)-i)
			break
		}
		fmt.Printf("  discrepancy: %s\n", d)
	}
	fmt.Printf("crash_points %d\n", sum(r.crashes))
	fmt.Printf("fault_episodes %d\n", sum(r.faults))
	fmt.Printf("discrepancies %d\n", len(r.discrepancies))
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

func show(m map[string]int) string {
	var k []string
	for name, n := range m {
		k = append(k, fmt.Sprintf("%s=%d", name, n))
	}
	sort.Strings(k)
	return "(" + strings.Join(k, " ") + ")"
}
