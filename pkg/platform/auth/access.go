package auth

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	authv1 "github.com/predikat-id/predikat/pkg/gen/predikat/auth/v1"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
)

// accessCache holds AccessOf results by full method name: descriptors
// never change once registered, and the lookup runs on every call.
var accessCache sync.Map // string -> *authv1.Access

// AccessOf returns the access rule a method declares in its proto
// options; fullMethod is the gRPC name, "/package.Service/Method". The
// method's Go package must be linked in so its descriptor is registered.
func AccessOf(fullMethod string) (*authv1.Access, error) {
	if a, ok := accessCache.Load(fullMethod); ok {
		return a.(*authv1.Access), nil
	}
	md, err := methodDescriptor(fullMethod)
	if err != nil {
		return nil, fmt.Errorf("method %s declares no access rule: %w", fullMethod, err)
	}
	a, ok := proto.GetExtension(md.Options(), authv1.E_Access).(*authv1.Access)
	if !ok || a == nil || !proto.HasExtension(md.Options(), authv1.E_Access) {
		return nil, fmt.Errorf("method %s declares no access rule", fullMethod)
	}
	if a.GetPermission() == "" {
		return nil, fmt.Errorf("method %s declares an access rule without a permission", fullMethod)
	}
	accessCache.Store(fullMethod, a)
	return a, nil
}

func methodDescriptor(fullMethod string) (protoreflect.MethodDescriptor, error) {
	svc, method, ok := strings.Cut(strings.TrimPrefix(fullMethod, "/"), "/")
	if !ok || svc == "" || method == "" {
		return nil, errors.New("the name is not /service/method")
	}
	d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(svc))
	if err != nil {
		return nil, fmt.Errorf("service %s not registered: %w", svc, err)
	}
	sd, ok := d.(protoreflect.ServiceDescriptor)
	if !ok {
		return nil, fmt.Errorf("%s is not a service", svc)
	}
	md := sd.Methods().ByName(protoreflect.Name(method))
	if md == nil {
		return nil, fmt.Errorf("no method %s in %s", method, svc)
	}
	return md, nil
}

// ScopeOf reads from req the scheme and institution the access rule's
// fields name. A field path is dotted ("board.scheme_id"); a path ending
// in "round_id" names a round, whose scheme is the id without "-<year>".
func ScopeOf(a *authv1.Access, req proto.Message) Scope {
	if a == nil || req == nil {
		return Scope{}
	}
	m := req.ProtoReflect()
	sc := Scope{
		Scheme:      stringAt(m, a.GetSchemeField()),
		Institution: stringAt(m, a.GetInstitutionField()),
		Province:    ProvinceOfRegion(stringAt(m, a.GetRegionField())),
	}
	if last(a.GetSchemeField()) == "round_id" {
		sc.Scheme = schemeOfRound(sc.Scheme)
	}
	return sc
}

func last(path string) string {
	return path[strings.LastIndex(path, ".")+1:]
}

// stringAt follows a dotted field path; "" when any step is missing,
// unset, or not of the expected kind.
func stringAt(m protoreflect.Message, path string) string {
	if path == "" {
		return ""
	}
	parts := strings.Split(path, ".")
	for i, name := range parts {
		fd := m.Descriptor().Fields().ByName(protoreflect.Name(name))
		if fd == nil || fd.IsList() || fd.IsMap() {
			return ""
		}
		if i == len(parts)-1 {
			if fd.Kind() != protoreflect.StringKind {
				return ""
			}
			return m.Get(fd).String()
		}
		if fd.Kind() != protoreflect.MessageKind || !m.Has(fd) {
			return ""
		}
		m = m.Get(fd).Message()
	}
	return ""
}

// schemeOfRound strips the "-YYYY" of a round id ("sakip-2025" → "sakip").
func schemeOfRound(id string) string {
	i := strings.LastIndex(id, "-")
	if i <= 0 || len(id)-i-1 != 4 {
		return id
	}
	for _, c := range id[i+1:] {
		if c < '0' || c > '9' {
			return id
		}
	}
	return id[:i]
}

// exempt are the methods outside access control: health (served on its
// own port for probes) and reflection (so grpcurl can list services; it
// reveals the contract, which is public, not data).
func exempt(fullMethod string) bool {
	svc, _, _ := strings.Cut(strings.TrimPrefix(fullMethod, "/"), "/")
	return strings.HasPrefix(svc, "grpc.health.v1.") || strings.HasPrefix(svc, "grpc.reflection.")
}

// CheckDeclared returns an error naming every method of services that
// declares no access rule (health and reflection aside), so a server can
// refuse to start rather than deny, or worse, be unsure, at call time.
func CheckDeclared(services map[string]grpc.ServiceInfo) error {
	var missing []string
	for svc, info := range services {
		for _, m := range info.Methods {
			full := "/" + svc + "/" + m.Name
			if exempt(full) {
				continue
			}
			if _, err := AccessOf(full); err != nil {
				missing = append(missing, err.Error())
			}
		}
	}
	if len(missing) == 0 {
		return nil
	}
	sort.Strings(missing)
	return errors.New("access rules missing: " + strings.Join(missing, "; "))
}
