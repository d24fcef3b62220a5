package auth

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"
)

// ServerTLS builds the TLS 1.3 configuration of a Predikat server: its own
// certificate, re-read from disk when the files change so a rotated
// certificate (cert-manager) is served without a restart, and client
// certificates verified against clientCAFile when a client presents one.
// A certificate is optional because token callers present none; whether an
// unauthenticated call may proceed is the policy's decision.
func ServerTLS(certFile, keyFile, clientCAFile string) (*tls.Config, error) {
	pool, err := loadPool(clientCAFile)
	if err != nil {
		return nil, fmt.Errorf("server TLS: client CA: %w", err)
	}
	kp := &reloadingKeyPair{certFile: certFile, keyFile: keyFile}
	if err := kp.load(); err != nil {
		return nil, err
	}
	return &tls.Config{
		MinVersion:     tls.VersionTLS13,
		ClientAuth:     tls.VerifyClientCertIfGiven,
		ClientCAs:      pool,
		GetCertificate: kp.get,
	}, nil
}

// reloadingKeyPair serves a certificate and re-reads it when either file's
// modification time or size changes.
type reloadingKeyPair struct {
	certFile, keyFile string

	mu      sync.Mutex
	cert    *tls.Certificate
	stamp   fileStamp
	lastErr string
}

// fileStamp identifies a version of the two files without reading them.
type fileStamp struct {
	certMod, keyMod   time.Time
	certSize, keySize int64
}

func (k *reloadingKeyPair) currentStamp() (fileStamp, error) {
	c, err := os.Stat(k.certFile)
	if err != nil {
		return fileStamp{}, fmt.Errorf("server TLS: %w", err)
	}
	kf, err := os.Stat(k.keyFile)
	if err != nil {
		return fileStamp{}, fmt.Errorf("server TLS: %w", err)
	}
	return fileStamp{certMod: c.ModTime(), keyMod: kf.ModTime(), certSize: c.Size(), keySize: kf.Size()}, nil
}

// load reads the key pair if the files changed since the last load.
func (k *reloadingKeyPair) load() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	st, err := k.currentStamp()
	if err != nil {
		return err
	}
	if k.cert != nil && st == k.stamp {
		return nil
	}
	cert, err := tls.LoadX509KeyPair(k.certFile, k.keyFile)
	if err != nil {
		return fmt.Errorf("server TLS: load key pair %s: %w", k.certFile, err)
	}
	k.cert, k.stamp, k.lastErr = &cert, st, ""
	return nil
}

// get serves the newest loadable certificate. A rotation caught halfway
// (the new certificate written, the key not yet) fails to load; the
// previous pair keeps being served until the files agree again.
func (k *reloadingKeyPair) get(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	err := k.load()
	k.mu.Lock()
	defer k.mu.Unlock()
	if err != nil && err.Error() != k.lastErr {
		k.lastErr = err.Error()
		slog.Warn("server certificate reload failed; serving the previous one", "err", err)
	}
	if k.cert == nil {
		return nil, err
	}
	return k.cert, nil
}
