// Package pkitest gives a test the dev PKI its services run with: one per
// test, so every service the test starts trusts the same CA and reads the
// same policy, as one deployment does.
package pkitest

import (
	"sync"
	"testing"

	"github.com/predikat-id/predikat/pkg/platform/devpki"
	"github.com/predikat-id/predikat/pkg/platform/security"
	"google.golang.org/grpc"
)

var pkis sync.Map // testing.TB -> *devpki.Files

// PKI is the test's PKI, created in its temporary directory on first use.
func PKI(t testing.TB) *devpki.Files {
	t.Helper()
	if f, ok := pkis.Load(t); ok {
		return f.(*devpki.Files)
	}
	f, err := devpki.Ensure(t.TempDir(), nil)
	if err != nil {
		t.Fatalf("dev PKI: %v", err)
	}
	pkis.Store(t, f)
	t.Cleanup(func() { pkis.Delete(t) })
	return f
}

// Security is a service's configuration on the test's PKI.
func Security(t testing.TB, service string) security.Config {
	t.Helper()
	return security.Dev(PKI(t), service)
}

// Dial connects to a service of the test as the dev user ("admin" or
// "reader"); the connection closes when the test ends.
func Dial(t testing.TB, addr, user string) *grpc.ClientConn {
	t.Helper()
	cc, err := security.DialWith(security.DevClient(PKI(t), user), addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cc.Close() })
	return cc
}
