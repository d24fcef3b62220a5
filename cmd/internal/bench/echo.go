package bench

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"sync"

	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/known/emptypb"

	authv1 "github.com/predikat-id/predikat/pkg/gen/predikat/auth/v1"
	"github.com/predikat-id/predikat/pkg/platform/auth"
	"github.com/predikat-id/predikat/pkg/platform/devpki"
	"github.com/predikat-id/predikat/pkg/platform/grpcserver"
	"github.com/predikat-id/predikat/pkg/platform/metrics"
	"github.com/predikat-id/predikat/pkg/platform/security"
	"github.com/predikat-id/predikat/pkg/platform/testenv/grpctest"
)

// echoMethod is the echo baseline's one method.
const echoMethod = grpctest.EchoMethod

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

// serveEchoes starts the two echo baselines on free ports of 127.0.0.1,
// served by g until ctx ends; fail reports a server that stopped on its
// own.
//
// The judged one is a gRPC server built as the services build theirs
// (grpcserver.New with the security options of security.Config.Server:
// TLS 1.3 with the caller's certificate, recovery, RPC metrics, logging,
// authentication and authorization against the policy, validation, the
// OpenTelemetry stats handler) serving one method that returns its empty
// request. Its access rule is boards.read, unscoped (see
// registerEchoDescriptor). Not health Check: the bootstrap leaves health
// checks out of logging and authorization.
//
// The bare one is the same method on a gRPC server with the same TLS and
// nothing else, so the table shows what the chain costs.
func serveEchoes(ctx context.Context, pki *devpki.Files, log *slog.Logger, g *errgroup.Group, fail func(error)) (chain, bare string, err error) {
	if err := registerEchoDescriptor(); err != nil {
		return "", "", err
	}
	sec, err := security.Dev(pki, "registry").Server(ctx, log)
	if err != nil {
		return "", "", fmt.Errorf("echo server security: %w", err)
	}
	gopts := grpcserver.Options{Name: "echo", Logger: log, Metrics: metrics.NewRegistry()}
	sec.Apply(&gopts)
	es, err := grpcserver.New(gopts)
	if err != nil {
		return "", "", err
	}
	es.Register(func(r grpc.ServiceRegistrar) { r.RegisterService(&grpctest.EchoDesc, echoServer{}) })
	if err := security.CheckDeclared(es.GRPC()); err != nil {
		return "", "", fmt.Errorf("echo server: %w", err)
	}
	lis, err := new(net.ListenConfig).Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return "", "", fmt.Errorf("echo server: %w", err)
	}
	es.SetServing(true)
	g.Go(func() error {
		if err := es.ServeListener(ctx, lis); err != nil && ctx.Err() == nil {
			fail(fmt.Errorf("echo: %w", err))
		}
		return nil
	})

	tlsCfg, err := auth.ServerTLS(pki.ServiceCert("registry"), pki.ServiceKey("registry"), pki.CA())
	if err != nil {
		return "", "", fmt.Errorf("bare echo server TLS: %w", err)
	}
	bs := grpc.NewServer(grpc.Creds(credentials.NewTLS(tlsCfg)))
	bs.RegisterService(&grpctest.EchoDesc, echoServer{})
	blis, err := new(net.ListenConfig).Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return "", "", fmt.Errorf("bare echo server: %w", err)
	}
	g.Go(func() error {
		context.AfterFunc(ctx, bs.Stop)
		if err := bs.Serve(blis); err != nil && ctx.Err() == nil {
			fail(fmt.Errorf("bare echo: %w", err))
		}
		return nil
	})
	return lis.Addr().String(), blis.Addr().String(), nil
}
