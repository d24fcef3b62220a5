package auth

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
)

// ClientCredentials is what a client presents to a Predikat service.
type ClientCredentials struct {
	// CAFile is the PEM of the CA that signed the servers' certificates.
	CAFile string
	// CertFile and KeyFile are the client certificate; optional when Token
	// is set. With neither, the client calls anonymously, which the policy
	// may allow for public reads.
	CertFile string
	KeyFile  string
	// Token is a bearer JWT sent as "authorization: Bearer <token>" on
	// every RPC.
	Token string
	// ServerName overrides the TLS server name (default: the dial target).
	ServerName string
}

// DialOptions returns the transport credentials (TLS 1.3, trusting CAFile,
// presenting the client certificate if any) and, with a token, per-RPC
// credentials that gRPC only ever sends over TLS.
func (c ClientCredentials) DialOptions() ([]grpc.DialOption, error) {
	if c.CAFile == "" {
		return nil, errors.New("client credentials: a CA file is required")
	}
	cfg, err := ClientTLS(c.CAFile, c.CertFile, c.KeyFile, c.ServerName)
	if err != nil {
		return nil, err
	}
	opts := []grpc.DialOption{grpc.WithTransportCredentials(credentials.NewTLS(cfg))}
	if c.Token != "" {
		opts = append(opts, grpc.WithPerRPCCredentials(bearer(c.Token)))
	}
	return opts, nil
}

// ClientTLS builds a TLS 1.3 client configuration trusting caFile and, when
// certFile and keyFile are given, presenting that certificate.
func ClientTLS(caFile, certFile, keyFile, serverName string) (*tls.Config, error) {
	pool, err := loadPool(caFile)
	if err != nil {
		return nil, err
	}
	cfg := &tls.Config{
		MinVersion: tls.VersionTLS13,
		RootCAs:    pool,
		ServerName: serverName,
	}
	if certFile == "" && keyFile == "" {
		return cfg, nil
	}
	if certFile == "" || keyFile == "" {
		return nil, errors.New("client TLS: certificate and key must be given together")
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("client TLS: load key pair %s: %w", certFile, err)
	}
	cfg.Certificates = []tls.Certificate{cert}
	return cfg, nil
}

// loadPool reads a PEM bundle of CA certificates.
func loadPool(path string) (*x509.CertPool, error) {
	data, err := os.ReadFile(path) //nolint:gosec // the path is operator configuration
	if err != nil {
		return nil, fmt.Errorf("read CA file: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(data) {
		return nil, fmt.Errorf("CA file %s: no PEM certificate", path)
	}
	return pool, nil
}

// bearer sends a token as the authorization header of every RPC.
type bearer string

func (b bearer) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + string(b)}, nil
}

// RequireTransportSecurity keeps a token from ever crossing plaintext.
func (bearer) RequireTransportSecurity() bool { return true }
