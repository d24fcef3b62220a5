package bench

import "runtime/metrics"

// gcCycles is the number of garbage collections the process has completed.
func gcCycles() uint64 {
	s := []metrics.Sample{{Name: "/gc/cycles/total:gc-cycles"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}

// cpuWatch measures the share of the machine's CPU that other processes
// took between start and stop: a benchmark on a shared machine says how
// quiet the machine was.
type cpuWatch struct {
	busy, total, ours int64
	ok                bool
}

func watchCPU() cpuWatch {
	b, t, o, ok := cpuTicks()
	return cpuWatch{b, t, o, ok}
}

// otherPercent is the percent of the machine's CPU capacity used by
// processes other than this one and its children since w; -1 when unknown.
func (w cpuWatch) otherPercent() float64 {
	b, t, o, ok := cpuTicks()
	if !ok || !w.ok || t <= w.total {
		return -1
	}
	other := float64((b-w.busy)-(o-w.ours)) / float64(t-w.total) * 100
	return max(0, other)
}
