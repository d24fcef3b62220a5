package bench

import (
	"context"
	"fmt"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/known/emptypb"

	authv1 "github.com/predikat-id/predikat/pkg/gen/predikat/auth/v1"
)

// echoMethod is the echo baseline's one method.
const echoMethod = "/predikat.bench.v1.EchoService/Echo"

// echoPermission is the echo's access rule: the permission of the reads it
// is compared with, without a scope (an empty request names none).
const echoPermission = "boards.read"

var (
	echoOnce sync.Once
	echoErr  error
)

// registerEchoDescriptor registers the echo service's descriptor, as
// protoc would generate it for
//
//	service EchoService {
//	  rpc Echo(google.protobuf.Empty) returns (google.protobuf.Empty) {
//	    option (predikat.auth.v1.access) = {permission: "boards.read"};
//	  }
//	}
//
// so the authorization interceptor finds the echo's access rule where it
// finds every service's: the echo is authenticated and authorized as a
// read is. Built at run time rather than generated, so the bench's
// baseline adds no proto to the API.
func registerEchoDescriptor() error {
	echoOnce.Do(func() {
		opts := &descriptorpb.MethodOptions{}
		proto.SetExtension(opts, authv1.E_Access, &authv1.Access{Permission: echoPermission})
		empty := "." + string((&emptypb.Empty{}).ProtoReflect().Descriptor().FullName())
		fdp := &descriptorpb.FileDescriptorProto{
			Name:       proto.String("predikat/bench/v1/echo.proto"),
			Package:    proto.String("predikat.bench.v1"),
			Syntax:     proto.String("proto3"),
			Dependency: []string{emptypb.File_google_protobuf_empty_proto.Path(), authv1.File_predikat_auth_v1_auth_proto.Path()},
			Service: []*descriptorpb.ServiceDescriptorProto{{
				Name:   proto.String("EchoService"),
				Method: []*descriptorpb.MethodDescriptorProto{{Name: proto.String("Echo"), InputType: &empty, OutputType: &empty, Options: opts}},
			}},
		}
		fd, err := protodesc.NewFile(fdp, protoregistry.GlobalFiles)
		if err != nil {
			echoErr = fmt.Errorf("echo descriptor: %w", err)
			return
		}
		if err := protoregistry.GlobalFiles.RegisterFile(fd); err != nil {
			echoErr = fmt.Errorf("echo descriptor: %w", err)
		}
	})
	return echoErr
}

type echoServer struct{}

// echoDesc is written by hand, as protoc-gen-go-grpc would generate it for
// the service above.
var echoDesc = grpc.ServiceDesc{
	ServiceName: "predikat.bench.v1.EchoService",
	HandlerType: (*any)(nil),
	Methods: []grpc.MethodDesc{{
		MethodName: "Echo",
		Handler: func(_ any, ctx context.Context, dec func(any) error, interceptor grpc.UnaryServerInterceptor) (any, error) {
			in := new(emptypb.Empty)
			if err := dec(in); err != nil {
				return nil, err
			}
			echo := func(context.Context, any) (any, error) { return in, nil }
			if interceptor == nil {
				return echo(ctx, in)
			}
			return interceptor(ctx, in, &grpc.UnaryServerInfo{Server: echoServer{}, FullMethod: echoMethod}, echo)
		},
	}},
}
