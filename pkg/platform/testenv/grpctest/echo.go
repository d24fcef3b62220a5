package grpctest

import (
	"context"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"
)

// EchoMethod is the echo baseline's one method: it answers its empty
// request with itself, the least a gRPC call can do. Benchmarks measure
// the services beside it.
const EchoMethod = "/predikat.bench.v1.EchoService/Echo"

// EchoDesc is the echo service, written by hand as protoc-gen-go-grpc would
// generate it; register it with any server value (it keeps no state).
var EchoDesc = grpc.ServiceDesc{
	ServiceName: "predikat.bench.v1.EchoService",
	HandlerType: (*any)(nil),
	Methods: []grpc.MethodDesc{{
		MethodName: "Echo",
		Handler: func(srv any, ctx context.Context, dec func(any) error, interceptor grpc.UnaryServerInterceptor) (any, error) {
			in := new(emptypb.Empty)
			if err := dec(in); err != nil {
				return nil, err
			}
			echo := func(context.Context, any) (any, error) { return in, nil }
			if interceptor == nil {
				return echo(ctx, in)
			}
			return interceptor(ctx, in, &grpc.UnaryServerInfo{Server: srv, FullMethod: EchoMethod}, echo)
		},
	}},
}
