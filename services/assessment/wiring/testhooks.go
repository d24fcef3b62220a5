package wiring

import "github.com/predikat-id/predikat/services/assessment/internal/store"

// SetGrantBatch sets how many rule awards one atomic write grants (0: the
// default). Tests of a publication interrupted between two writes make a
// round of a few awards take several; the service never calls it.
func SetGrantBatch(n int32) { store.SetGrantChunk(n) }
