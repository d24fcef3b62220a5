package wiring

import "github.com/predikat-id/predikat/services/assessment/internal/store"

// SetGrantWindow sets how many rule-award grants a publication has in
// flight at once (0: the default). Tests of a publication interrupted
// between two grants send them one at a time; the service never calls it.
func SetGrantWindow(n int32) { store.SetGrantWindow(n) }
