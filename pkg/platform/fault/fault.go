// Package fault gives domain code a vocabulary of failures that callers can
// act on, without making that code depend on gRPC. Each kind maps to one gRPC
// code; a handler returns the error as is and grpc-go reads the code through
// the GRPCStatus method, even when the error has been wrapped with %w.
package fault

import (
	"errors"
	"fmt"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Kind is the class of a failure; it decides the gRPC code.
type Kind int

const (
	// Invalid: the request itself is wrong; resending it unchanged fails again.
	Invalid Kind = iota + 1
	// NotFound: a named resource does not exist.
	NotFound
	// Exists: creating something that is already there.
	Exists
	// Precondition: the request is well formed but the system is not in a
	// state that allows it (round not open, parent retired).
	Precondition
	// Conflict: a concurrent change won (stale revision); re-read and retry.
	Conflict
	// Unavailable: a dependency is down; retrying later may work.
	Unavailable
	// Denied: the caller may call the method but not see or do this (a
	// published-only reader asking for provisional results).
	Denied
)

var codeOf = map[Kind]codes.Code{
	Invalid:      codes.InvalidArgument,
	NotFound:     codes.NotFound,
	Exists:       codes.AlreadyExists,
	Precondition: codes.FailedPrecondition,
	Conflict:     codes.Aborted,
	Unavailable:  codes.Unavailable,
	Denied:       codes.PermissionDenied,
}

// Error is a failure of a known kind with a message meant for the caller.
type Error struct {
	Kind Kind
	Msg  string
}

func (e *Error) Error() string { return e.Msg }

// GRPCStatus lets grpc-go and status.FromError turn the error into a status.
func (e *Error) GRPCStatus() *status.Status { return status.New(codeOf[e.Kind], e.Msg) }

func newf(k Kind, format string, args ...any) error {
	return &Error{Kind: k, Msg: fmt.Sprintf(format, args...)}
}

// Invalidf reports a malformed request.
func Invalidf(format string, args ...any) error { return newf(Invalid, format, args...) }

// NotFoundf reports a missing resource.
func NotFoundf(format string, args ...any) error { return newf(NotFound, format, args...) }

// Existsf reports a duplicate.
func Existsf(format string, args ...any) error { return newf(Exists, format, args...) }

// Preconditionf reports a state that forbids the request.
func Preconditionf(format string, args ...any) error { return newf(Precondition, format, args...) }

// Conflictf reports a lost optimistic-concurrency race.
func Conflictf(format string, args ...any) error { return newf(Conflict, format, args...) }

// Unavailablef reports a dependency that is down.
func Unavailablef(format string, args ...any) error { return newf(Unavailable, format, args...) }

// Deniedf is a PermissionDenied failure decided by the data, after the
// policy admitted the call.
func Deniedf(format string, args ...any) error { return newf(Denied, format, args...) }

// Is reports whether err is (or wraps) a fault of kind k.
func Is(err error, k Kind) bool {
	var f *Error
	return errors.As(err, &f) && f.Kind == k
}
