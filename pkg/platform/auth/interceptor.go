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

// ProvinceResolver places an institution in its province (a two-digit
// code; "" when the institution is unknown), for bindings scoped to
// provinces. An error is a lookup that failed (the registry away) and is
// returned to the caller as it is.
type ProvinceResolver func(ctx context.Context, institutionID string) (string, error)

// Option configures the interceptors.
type Option func(*options)

// AwardResolver places an award by the scheme of its round, its
// institution and that institution's province (the zero Scope when the
// award is unknown), for scoped bindings.
type AwardResolver func(ctx context.Context, awardID string) (Scope, error)

type options struct {
	provinces ProvinceResolver
	awards    AwardResolver
}

// WithAwards gives the interceptors the service's way to place an award.
// Without it, a scoped binding admits no call that names only an award.
func WithAwards(r AwardResolver) Option { return func(o *options) { o.awards = r } }

// WithProvinces gives the interceptors the service's way to find an
// institution's province. Without it, a binding scoped to provinces admits
// only calls whose request names a region.
func WithProvinces(r ProvinceResolver) Option { return func(o *options) { o.provinces = r } }

func optionsOf(opts []Option) *options {
	o := &options{}
	for _, f := range opts {
		f(o)
	}
	return o
}

// UnaryServerInterceptor authenticates each call, stores the principal in
// its context, and lets it through only if the policy in force grants the
// permission the method declares, within the scope its request names.
func UnaryServerInterceptor(a *Authenticator, p *LivePolicy, opts ...Option) grpc.UnaryServerInterceptor {
	o := optionsOf(opts)
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
			ctx, err = authorize(ctx, p, o, access, msg)
			if err != nil {
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
func StreamServerInterceptor(a *Authenticator, p *LivePolicy, opts ...Option) grpc.StreamServerInterceptor {
	o := optionsOf(opts)
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
			if access.GetSchemeField() == "" && access.GetInstitutionField() == "" && access.GetRegionField() == "" &&
				access.GetAwardField() == "" && access.GetPublishedPermission() == "" {
				if _, err := authorize(ss.Context(), p, o, access, nil); err != nil {
					return err
				}
				return handler(srv, ss)
			}
			return handler(srv, &checkedStream{ServerStream: ss, policy: p, opts: o, access: access})
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
// present; a refused known one gets PermissionDenied. A caller admitted by
// the method's published-only permission alone gets a context marked so
// (PublishedOnly), for the handler to limit what it shows.
func authorize(ctx context.Context, p *LivePolicy, o *options, access *authv1.Access, req proto.Message) (context.Context, error) {
	pr, ok := FromContext(ctx)
	if !ok {
		// A service that overrides the middleware's authentication leaves
		// no principal: it is treated as anonymous, never as trusted.
		pr = AnonymousPrincipal
	}
	pol := p.Current()
	if pol == nil {
		return ctx, status.Error(codes.PermissionDenied, "no access policy loaded")
	}
	scope, err := place(ctx, pol, pr, o, access, req)
	if err != nil {
		return ctx, err
	}
	err = pol.Check(pr, access.GetPermission(), scope)
	if err == nil {
		err = checkDestination(pol, pr, access, req, scope)
	}
	if err == nil {
		return ctx, nil
	}
	if pp := access.GetPublishedPermission(); pp != "" && pol.Check(pr, pp, scope) == nil {
		return context.WithValue(ctx, publishedOnlyKey{}, access.GetPermission()), nil
	}
	if pr.Anonymous() {
		return ctx, status.Errorf(codes.Unauthenticated, "this call needs %s: %v", expectedCredential, err)
	}
	return ctx, status.Error(codes.PermissionDenied, err.Error())
}

// place is the scope of a call: what its request names, completed by the
// service's lookups (an award's scheme and institution, an institution's
// province) only when a binding of the caller is limited by them, so an
// unscoped caller costs no lookup. Lookups see the request before
// validation: an id that cannot be one is not looked up, and so places the
// call nowhere.
func place(ctx context.Context, pol *Policy, pr Principal, o *options, access *authv1.Access, req proto.Message) (Scope, error) {
	scope := ScopeOf(access, req)
	if id := awardOf(access, req); plausibleID(id) && o.awards != nil && pol.scoped(pr) {
		placed, err := o.awards(ctx, id)
		if err != nil {
			return Scope{}, err
		}
		scope = placed
	}
	if scope.Province == "" && plausibleID(scope.Institution) && o.provinces != nil && pol.needsProvince(pr) {
		prov, err := o.provinces(ctx, scope.Institution)
		if err != nil {
			return Scope{}, err
		}
		scope.Province = prov
	}
	return scope, nil
}

// checkDestination holds a call that may move its institution to another
// region (an update's new region code) to the permission there as well:
// otherwise a binding scoped to one province could push an institution out
// to another, or up to the national level, that it may not create there.
// A destination in the province the call is placed in costs nothing more.
func checkDestination(pol *Policy, pr Principal, access *authv1.Access, req proto.Message, at Scope) error {
	if access.GetDestinationRegionField() == "" || req == nil {
		return nil
	}
	region := stringAt(req.ProtoReflect(), access.GetDestinationRegionField())
	if region == "" {
		return nil
	}
	to := at
	to.Province = ProvinceOfRegion(region)
	if to.Province == at.Province && at.Province != "" {
		return nil
	}
	return pol.Check(pr, access.GetPermission(), to)
}

// plausibleID reports whether s could be an institution or award id (ids
// are short lowercase tokens), before the request is validated.
func plausibleID(s string) bool {
	if s == "" || len(s) > 63 {
		return false
	}
	for _, c := range s {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
			return false
		}
	}
	return true
}

// awardOf is the award id the request names, "" when the method names
// none.
func awardOf(access *authv1.Access, req proto.Message) string {
	if access.GetAwardField() == "" || req == nil {
		return ""
	}
	return stringAt(req.ProtoReflect(), access.GetAwardField())
}

type publishedOnlyKey struct{}

// PublishedOnly reports whether the caller was admitted by the method's
// published-only permission alone, and names the permission it lacks for
// anything provisional. A handler seeing it shows published rounds and
// FINAL boards only, and refuses the rest with PermissionDenied naming
// that permission.
func PublishedOnly(ctx context.Context) (lacking string, only bool) {
	lacking, only = ctx.Value(publishedOnlyKey{}).(string)
	return lacking, only
}

// checkedStream authorizes each message a scoped streaming call receives,
// and refuses to send anything before the first one has been authorized.
type checkedStream struct {
	grpc.ServerStream
	policy  *LivePolicy
	opts    *options
	access  *authv1.Access
	allowed bool
	ctx     context.Context // the authorized call's, once allowed
}

// Context is the call's context as authorization left it.
func (s *checkedStream) Context() context.Context {
	if s.ctx != nil {
		return s.ctx
	}
	return s.ServerStream.Context()
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
	ctx, err := authorize(s.ServerStream.Context(), s.policy, s.opts, s.access, msg)
	if err != nil {
		s.allowed, s.ctx = false, nil
		return err
	}
	s.allowed, s.ctx = true, ctx
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
