// Package grpctest holds what the services' tests share about gRPC: running
// a service in-process until the test ends, and asserting a status.
package grpctest

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Serve runs a service (an app.Run with its OnServing hook) in the
// background and returns its bound address once it serves, and a stop
// function (also called at cleanup) that cancels it and fails the test if
// it stopped with an error.
func Serve(t testing.TB, name string, run func(ctx context.Context, onServing func(addr string)) error) (string, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	addr, done := make(chan string, 1), make(chan error, 1)
	go func() { done <- run(ctx, func(a string) { addr <- a }) }()
	var a string
	select {
	case a = <-addr:
	case err := <-done:
		cancel()
		t.Fatalf("%s did not start: %v", name, err)
	case <-time.After(20 * time.Second):
		cancel()
		t.Fatalf("%s not ready in 20s", name)
	}
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("%s stopped with error: %v", name, err)
			}
		})
	}
	t.Cleanup(stop)
	return a, stop
}

// WantCode fails the test unless err has code and its message mentions
// contains (when not empty): callers act on both.
func WantCode(t testing.TB, err error, code codes.Code, contains string) {
	t.Helper()
	st, _ := status.FromError(err)
	if st.Code() != code {
		t.Fatalf("got %v %q, want %v", st.Code(), st.Message(), code)
	}
	if contains != "" && !strings.Contains(st.Message(), contains) {
		t.Fatalf("message %q does not mention %q", st.Message(), contains)
	}
}
