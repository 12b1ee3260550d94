package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// crashHook reads KASSE_CRASHPOINTS, the soak test's way to cut the power at
// the moments that matter: "sent:create=0.05,answered:capture=0.1,printing=0.2"
// kills kassed with SIGKILL at that point with that probability
// (KASSE_CRASH_SEED seeds the draw). "hang:POINT=p" stops the till's loop
// there instead, forever: a stuck till, for the watchdog test. Unset in
// production: no hook at all.
func crashHook(spec, seed string) (func(point string), error) {
	if spec == "" {
		return nil, nil
	}
	odds := map[string]float64{}
	for _, part := range strings.Split(spec, ",") {
		name, p, ok := strings.Cut(strings.TrimSpace(part), "=")
		f, err := strconv.ParseFloat(p, 64)
		if !ok || err != nil || f < 0 || f > 1 {
			return nil, fmt.Errorf("KASSE_CRASHPOINTS: %q is not point=probability (0..1)", part)
		}
		odds[name] = f
	}
	s, _ := strconv.ParseUint(seed, 10, 64)
	rng := rand.New(rand.NewPCG(s, s^0x9e3779b97f4a7c15))
	return func(point string) {
		if p := odds["hang:"+point]; p > 0 && rng.Float64() < p {
			fmt.Fprintf(os.Stderr, "kassed: hanging at %s\n", point)
			select {}
		}
		if p := odds[point]; p > 0 && rng.Float64() < p {
			fmt.Fprintf(os.Stderr, "kassed: crashpoint %s\n", point)
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
			select {} // the signal is on its way
		}
	}, nil
}
