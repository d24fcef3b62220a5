package app

import (
	"context"
	"time"

	"github.com/predikat-id/predikat/pkg/platform/fault"
)

// RebuildBoards asks for the boards of the rounds selected to be rebuilt
// from the log ("" and 0 select every scheme and year).
type RebuildBoards struct {
	Scheme string
	Year   int32
}

// RebuildReport is what a rebuild did.
type RebuildReport struct {
	AssessmentsRead int64
	BoardsWritten   int
	EntriesWritten  int64
	ReportedBand    int64
	StreamSequence  uint64
	LayoutVersion   int
	Elapsed         time.Duration
}

// Rebuilder runs a rebuild, or joins a running one that covers the same
// rounds; ctx only bounds the wait.
type Rebuilder interface {
	Rebuild(ctx context.Context, c RebuildBoards) (RebuildReport, error)
}

// RebuildBoardsHandler rebuilds boards on request.
type RebuildBoardsHandler struct {
	rb Rebuilder
}

// NewRebuildBoardsHandler returns the handler.
func NewRebuildBoardsHandler(rb Rebuilder) RebuildBoardsHandler { return RebuildBoardsHandler{rb: rb} }

// Handle runs the rebuild. Any failure is Unavailable: the caller may try
// again, and a rebuild the call stopped waiting for goes on.
func (h RebuildBoardsHandler) Handle(ctx context.Context, c RebuildBoards) (RebuildReport, error) {
	res, err := h.rb.Rebuild(ctx, c)
	if err != nil {
		if ctx.Err() != nil {
			return RebuildReport{}, fault.Unavailablef("the rebuild continues in the background; the call ended first: %v", ctx.Err())
		}
		return RebuildReport{}, fault.Unavailablef("rebuild failed, try again: %v", err)
	}
	return res, nil
}
