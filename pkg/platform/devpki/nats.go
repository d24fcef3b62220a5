package devpki

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"log/slog"
	"os"
	"strings"
)

// NATSUsers are the users of the dev NATS server, each with a password
// file of its own: one per service (registry, assessment, ranking),
// subscriber for award subscribers (the CLI's "awards watch",
// pkg/awardfeed) and admin for operators. What each may do on NATS is the
// server's business (cmd/internal/stack); the PKI only keeps the secrets.
var NATSUsers = []string{"registry", "assessment", "ranking", "subscriber", "admin"}

// NATSServerName is the identity of the dev NATS server's certificate.
const NATSServerName = "nats"

// NATSServerURI is the identity (URI SAN) of the dev NATS server's
// certificate.
const NATSServerURI = "spiffe://predikat/nats"

// NATSPassword is the password file of a NATS user: one line, random,
// readable by its owner only.
func (f *Files) NATSPassword(user string) string { return f.path("nats-" + user + ".pass") }

// NATSCert is the dev NATS server's certificate (PEM), for 127.0.0.1,
// ::1, localhost and nats; clients verify it against CA.
func (f *Files) NATSCert() string { return f.path(NATSServerName + ".pem") }

// NATSKey is the private key of NATSCert.
func (f *Files) NATSKey() string { return f.path(NATSServerName + "-key.pem") }

// ReadNATSPassword reads the password of a NATS user.
func (f *Files) ReadNATSPassword(user string) (string, error) {
	b, err := os.ReadFile(f.NATSPassword(user))
	if err != nil {
		return "", fmt.Errorf("devpki: NATS password of %s: %w", user, err)
	}
	pw := strings.TrimSpace(string(b))
	if len(pw) < minNATSPassword {
		return "", fmt.Errorf("devpki: NATS password of %s in %s is too short", user, f.NATSPassword(user))
	}
	return pw, nil
}

// minNATSPassword is the shortest password file kept as it is; a shorter
// one (empty, truncated) is replaced.
const minNATSPassword = 16

// ensureNATSPasswords writes a random password for every NATS user that
// has none, and keeps the others, so a restarted stack and a running CLI
// agree on them.
func (f *Files) ensureNATSPasswords(log *slog.Logger) error {
	for _, u := range NATSUsers {
		if _, err := f.ReadNATSPassword(u); err == nil {
			continue
		}
		var b [24]byte
		if _, err := rand.Read(b[:]); err != nil {
			return fmt.Errorf("devpki: NATS password: %w", err)
		}
		if err := writeFile(f.NATSPassword(u), []byte(base64.RawURLEncoding.EncodeToString(b[:])+"\n"), 0o600); err != nil {
			return err
		}
		log.Info("dev PKI: created a NATS password", "user", u, "file", f.NATSPassword(u))
	}
	return f.writeNATSEnv()
}

// NATSEnv is the passwords of every NATS user as the environment a NATS
// server's configuration reads them from (NATS_PASSWORD_<USER>=...), one
// per line: the compose stack's NATS takes it as its env_file.
func (f *Files) NATSEnv() string { return f.path("nats-users.env") }

// writeNATSEnv writes NATSEnv from the password files, whenever they are
// ensured, so it never disagrees with them.
func (f *Files) writeNATSEnv() error {
	var b strings.Builder
	b.WriteString("# The dev NATS users' passwords, for a NATS server whose configuration reads\n")
	b.WriteString("# $NATS_PASSWORD_<USER> (deploy/compose). Written from the nats-*.pass files.\n")
	for _, u := range NATSUsers {
		pw, err := f.ReadNATSPassword(u)
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, "NATS_PASSWORD_%s=%s\n", strings.ToUpper(u), pw)
	}
	return writeFile(f.NATSEnv(), []byte(b.String()), 0o600)
}
