package auth

import (
	"context"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
)

// Authenticator establishes who is calling from the call's credentials.
type Authenticator struct {
	jwt *JWTVerifier
}

// NewAuthenticator accepts bearer tokens verified by jwt, or none when jwt
// is nil, besides client certificates.
func NewAuthenticator(jwt *JWTVerifier) *Authenticator {
	return &Authenticator{jwt: jwt}
}

// Authenticate returns the caller: a bearer token's subject if one is
// sent (a bad token is refused rather than ignored, so a caller never
// silently runs with less, or other, identity than it meant to), else the
// verified client certificate's holder, else the anonymous principal,
// whose rights are the policy's to decide.
func (a *Authenticator) Authenticate(ctx context.Context) (Principal, error) {
	info, hasTLS := tlsInfo(ctx)
	if raw, ok := bearerToken(ctx); ok {
		return a.fromToken(ctx, raw, hasTLS)
	}
	if hasTLS && len(info.State.VerifiedChains) > 0 && len(info.State.VerifiedChains[0]) > 0 {
		p, err := certPrincipal(info.State.VerifiedChains[0][0])
		if err != nil {
			return Principal{}, status.Error(codes.Unauthenticated, err.Error())
		}
		return p, nil
	}
	return AnonymousPrincipal, nil
}

func (a *Authenticator) fromToken(ctx context.Context, raw string, hasTLS bool) (Principal, error) {
	if !hasTLS {
		// The token has already crossed in clear; refusing it at least
		// makes the misconfigured client fail loudly.
		return Principal{}, status.Error(codes.Unauthenticated, "bearer token rejected: sent without TLS")
	}
	if a.jwt == nil {
		return Principal{}, status.Error(codes.Unauthenticated, "bearer token rejected: this server accepts no tokens")
	}
	if raw == "" {
		return Principal{}, status.Error(codes.Unauthenticated, "bearer token rejected: authorization is not \"Bearer <token>\"")
	}
	p, err := a.jwt.Verify(ctx, raw)
	if err != nil {
		return Principal{}, status.Error(codes.Unauthenticated, "bearer token rejected: "+err.Error())
	}
	return p, nil
}

// bearerToken returns the token of the "authorization" header; ok is true
// whenever the header is present, with an empty token if it is not of the
// Bearer scheme.
func bearerToken(ctx context.Context) (string, bool) {
	vals := metadata.ValueFromIncomingContext(ctx, "authorization")
	if len(vals) == 0 {
		return "", false
	}
	if len(vals) > 1 {
		return "", true
	}
	scheme, tok, found := strings.Cut(strings.TrimSpace(vals[0]), " ")
	if !found || !strings.EqualFold(scheme, "bearer") {
		return "", true
	}
	return strings.TrimSpace(tok), true
}

func tlsInfo(ctx context.Context) (credentials.TLSInfo, bool) {
	p, ok := peer.FromContext(ctx)
	if !ok || p.AuthInfo == nil {
		return credentials.TLSInfo{}, false
	}
	info, ok := p.AuthInfo.(credentials.TLSInfo)
	return info, ok
}
