package auth

import "context"

// Via values: how a principal was established.
const (
	ViaMTLS      = "mtls"
	ViaJWT       = "jwt"
	ViaAnonymous = "anonymous"
)

// Principal is the authenticated caller of one RPC.
type Principal struct {
	// ID names the caller: a client certificate's URI SAN (for example
	// "spiffe://predikat/ministry/ombudsman") or, without one, "cn:" and
	// its subject CN; "user:" and the JWT subject; "" when anonymous.
	ID string
	// Groups is the JWT "groups" claim; certificates carry none.
	Groups []string
	// Via is "mtls", "jwt" or "anonymous".
	Via string
}

// AnonymousPrincipal is the caller that presented no credential.
var AnonymousPrincipal = Principal{Via: ViaAnonymous}

// Anonymous reports whether the caller presented no credential.
func (p Principal) Anonymous() bool { return p.ID == "" }

// String is the principal as policy errors and logs name it.
func (p Principal) String() string {
	if p.Anonymous() {
		return "anonymous"
	}
	return p.ID
}

type principalKey struct{}

// NewContext returns ctx carrying p, so handlers can see who called.
func NewContext(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// FromContext returns the principal the interceptor stored, if any.
func FromContext(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}

// Actor is what a write records as its actor: the principal's ID, or
// "anonymous" when there is none, so stored history never has a blank.
func Actor(ctx context.Context) string {
	p, ok := FromContext(ctx)
	if !ok || p.Anonymous() {
		return "anonymous"
	}
	return p.ID
}
