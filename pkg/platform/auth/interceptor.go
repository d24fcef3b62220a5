package auth

import (
	"context"

	grpcauth "github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/auth"
	authv1 "github.com/predikat-id/predikat/pkg/gen/predikat/auth/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// expectedCredential is what an anonymous caller is told to present.
const expectedCredential = "a client certificate signed by the Predikat CA or a bearer token"

// UnaryServerInterceptor authenticates each call, stores the principal in
// its context, and lets it through only if the policy in force grants the
// permission the method declares, within the scope its request names.
func UnaryServerInterceptor(a *Authenticator, p *LivePolicy) grpc.UnaryServerInterceptor {
	authn := grpcauth.UnaryServerInterceptor(a.authFunc)
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if exempt(info.FullMethod) {
			return handler(ctx, req)
		}
		return authn(ctx, req, info, func(ctx context.Context, req any) (any, error) {
			access, err := accessOrDeny(info.FullMethod)
			if err != nil {
				return nil, err
			}
			msg, _ := req.(proto.Message)
			if err := authorize(ctx, p, access, msg); err != nil {
				return nil, err
			}
			return handler(ctx, req)
		})
	}
}

// StreamServerInterceptor is UnaryServerInterceptor for streams. A method
// whose rule is not scoped is decided before the handler runs; a scoped
// one on each received message, since the scope is in the request (a
// server-streaming handler receives its request before doing anything).
func StreamServerInterceptor(a *Authenticator, p *LivePolicy) grpc.StreamServerInterceptor {
	authn := grpcauth.StreamServerInterceptor(a.authFunc)
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		if exempt(info.FullMethod) {
			return handler(srv, ss)
		}
		return authn(srv, ss, info, func(srv any, ss grpc.ServerStream) error {
			access, err := accessOrDeny(info.FullMethod)
			if err != nil {
				return err
			}
			if access.GetSchemeField() == "" && access.GetInstitutionField() == "" {
				if err := authorize(ss.Context(), p, access, nil); err != nil {
					return err
				}
				return handler(srv, ss)
			}
			return handler(srv, &checkedStream{ServerStream: ss, policy: p, access: access})
		})
	}
}

// authFunc adapts Authenticate to the go-grpc-middleware auth interceptor.
func (a *Authenticator) authFunc(ctx context.Context) (context.Context, error) {
	pr, err := a.Authenticate(ctx)
	if err != nil {
		return nil, err
	}
	return NewContext(ctx, pr), nil
}

func accessOrDeny(fullMethod string) (*authv1.Access, error) {
	access, err := AccessOf(fullMethod)
	if err != nil {
		return nil, status.Error(codes.PermissionDenied, err.Error())
	}
	return access, nil
}

// authorize checks the principal in ctx against the policy in force. A
// refused anonymous caller gets Unauthenticated, telling it what to
// present; a refused known one gets PermissionDenied.
func authorize(ctx context.Context, p *LivePolicy, access *authv1.Access, req proto.Message) error {
	pr, ok := FromContext(ctx)
	if !ok {
		// A service that overrides the middleware's authentication leaves
		// no principal: it is treated as anonymous, never as trusted.
		pr = AnonymousPrincipal
	}
	pol := p.Current()
	if pol == nil {
		return status.Error(codes.PermissionDenied, "no access policy loaded")
	}
	err := pol.Check(pr, access.GetPermission(), ScopeOf(access, req))
	if err == nil {
		return nil
	}
	if pr.Anonymous() {
		return status.Errorf(codes.Unauthenticated, "this call needs %s: %v", expectedCredential, err)
	}
	return status.Error(codes.PermissionDenied, err.Error())
}

// checkedStream authorizes each message a scoped streaming call receives,
// and refuses to send anything before the first one has been authorized.
type checkedStream struct {
	grpc.ServerStream
	policy  *LivePolicy
	access  *authv1.Access
	allowed bool
}

var errUnchecked = status.Error(codes.PermissionDenied, "nothing may be sent before the request is authorized")

func (s *checkedStream) RecvMsg(m any) error {
	if err := s.ServerStream.RecvMsg(m); err != nil {
		return err
	}
	msg, ok := m.(proto.Message)
	if !ok {
		return status.Error(codes.Internal, "stream message is not a protobuf message")
	}
	if err := authorize(s.Context(), s.policy, s.access, msg); err != nil {
		s.allowed = false
		return err
	}
	s.allowed = true
	return nil
}

func (s *checkedStream) SendMsg(m any) error {
	if !s.allowed {
		return errUnchecked
	}
	return s.ServerStream.SendMsg(m)
}

// SendHeader is refused before authorization too: headers may carry data.
func (s *checkedStream) SendHeader(md metadata.MD) error {
	if !s.allowed {
		return errUnchecked
	}
	return s.ServerStream.SendHeader(md)
}
