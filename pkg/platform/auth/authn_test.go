package auth

import (
	"context"
	"testing"

	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
)

func metadataCtx(kv ...string) context.Context {
	return metadata.NewIncomingContext(context.Background(), metadata.Pairs(kv...))
}

func peerCtx(ctx context.Context, info credentials.TLSInfo) context.Context {
	return peer.NewContext(ctx, &peer.Peer{AuthInfo: info})
}

func TestActor(t *testing.T) {
	if got := Actor(context.Background()); got != "anonymous" {
		t.Fatalf("no principal: %q", got)
	}
	if got := Actor(NewContext(context.Background(), AnonymousPrincipal)); got != "anonymous" {
		t.Fatalf("anonymous: %q", got)
	}
	ctx := NewContext(context.Background(), Principal{ID: "user:alice", Via: ViaJWT})
	if got := Actor(ctx); got != "user:alice" {
		t.Fatalf("alice: %q", got)
	}
}

func TestNonBearerAuthorizationIsRefused(t *testing.T) {
	a := NewAuthenticator(&JWTVerifier{})
	ctx := peerCtx(metadataCtx("authorization", "Basic dXNlcjpwdw=="), credentials.TLSInfo{})
	_, err := a.Authenticate(ctx)
	wantCode(t, err, 16, "not \"Bearer <token>\"")
}
