package natsx

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/nats-io/nats.go"
	"github.com/predikat-id/predikat/pkg/platform/config"
)

// ClientAuth is who a client is on NATS and how it checks the server: a
// user with a password kept in a file (never on a command line), and the
// CA that signed the server's certificate. The zero value connects
// anonymously over plain TCP, which a server with users refuses.
type ClientAuth struct {
	// User is the NATS user name; PasswordFile holds its password (one
	// line). Both or neither.
	User         string
	PasswordFile string
	// CAFile, when set, makes the connection TLS-only, the server's
	// certificate verified against this CA (PEM) and the URL's host.
	CAFile string
}

// Flags registers --nats-user, --nats-password-file and --nats-ca, with
// the environment (PREDIKAT_NATS_USER, PREDIKAT_NATS_PASSWORD_FILE,
// PREDIKAT_NATS_CA) as defaults; user is the default user name.
func (a *ClientAuth) Flags(fs *flag.FlagSet, user string) {
	fs.StringVar(&a.User, "nats-user", config.Env("PREDIKAT_NATS_USER", user),
		"NATS user, used with --nats-password-file (env PREDIKAT_NATS_USER)")
	fs.StringVar(&a.PasswordFile, "nats-password-file", config.Env("PREDIKAT_NATS_PASSWORD_FILE", ""),
		"file holding the NATS user's password; empty connects without credentials (env PREDIKAT_NATS_PASSWORD_FILE)")
	fs.StringVar(&a.CAFile, "nats-ca", config.Env("PREDIKAT_NATS_CA", ""),
		"CA (PEM) of the NATS server's certificate: the connection is then TLS only (env PREDIKAT_NATS_CA)")
}

// Options are the nats.go options of a: its credentials and TLS, for
// Connect's extra options. The password is read now, so a missing file is
// an error at start-up, not a refused connection later.
func (a ClientAuth) Options() ([]nats.Option, error) {
	var opts []nats.Option
	switch {
	case a.PasswordFile != "" && a.User == "":
		return nil, errors.New("nats credentials: a password file without a user")
	case a.PasswordFile != "":
		b, err := os.ReadFile(a.PasswordFile)
		if err != nil {
			return nil, fmt.Errorf("nats credentials of %s: %w", a.User, err)
		}
		pw := strings.TrimSpace(string(b))
		if pw == "" {
			return nil, fmt.Errorf("nats credentials of %s: %s is empty", a.User, a.PasswordFile)
		}
		opts = append(opts, nats.UserInfo(a.User, pw), nats.CustomInboxPrefix(InboxPrefix(a.User)))
	}
	if a.CAFile != "" {
		if _, err := os.Stat(a.CAFile); err != nil {
			return nil, fmt.Errorf("nats CA: %w", err)
		}
		opts = append(opts, nats.RootCAs(a.CAFile))
	}
	return opts, nil
}

// InboxPrefix is where a user receives its replies (publish acks, API
// answers, pulled messages, watches): "_INBOX_<user>", never the shared
// "_INBOX". NATS delivers a reply to whoever subscribes to its subject, so
// with one inbox for all, any user allowed "_INBOX.>" would read every
// other user's replies, the messages it pulls from streams it may not read
// included; each user is granted its own prefix and nothing else.
func InboxPrefix(user string) string { return "_INBOX_" + user }
