package stack

import (
	"crypto/tls"
	"fmt"
	"slices"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/predikat-id/predikat/pkg/events"
	"github.com/predikat-id/predikat/pkg/platform/devpki"
	"github.com/predikat-id/predikat/pkg/platform/natsx"
	ranking "github.com/predikat-id/predikat/services/ranking/wiring"
)

// The NATS users of the stack (devpki.NATSUsers), all in NATS's one global
// account so the streams and buckets stay where earlier stores have them:
// one per service, Subscriber for award subscribers and Admin for
// operators. deploy/kubernetes/overlays/dev/nats.conf grants the same.
const (
	NATSSubscriber = "subscriber"
	NATSAdmin      = "admin"
)

// RankingRedisBase is the ranking service's Redis key prefix of its
// current layout: the bench and the tests reach into Redis as a fault would.
var RankingRedisBase = ranking.RedisKeyBase

// KV buckets, as the services name them (services/*/internal/store).
var (
	registryBuckets   = []string{"registry_institutions", "registry_identities", "registry_regions", "registry_requests"}
	assessmentBuckets = []string{"assessment_rounds", "assessment_schemes", "assessment_ceremonies"}
)

// streamRead is what a reader of stream needs of the JetStream API:
// stream info and message gets, consumers (durable or ephemeral) created,
// read, pulled from and deleted, acknowledgements and flow control.
func streamRead(stream string) []string {
	return []string{
		"$JS.API.STREAM.INFO." + stream,
		"$JS.API.STREAM.MSG.GET." + stream,
		"$JS.API.DIRECT.GET." + stream, "$JS.API.DIRECT.GET." + stream + ".>",
		"$JS.API.CONSUMER.CREATE." + stream + ".>",
		"$JS.API.CONSUMER.INFO." + stream + ".>",
		"$JS.API.CONSUMER.MSG.NEXT." + stream + ".>",
		"$JS.API.CONSUMER.DELETE." + stream + ".>",
		"$JS.ACK." + stream + ".>",
		"$JS.FC." + stream + ".>",
	}
}

// streamOwn adds creating and updating the stream, for the service that
// owns it (EnsureStream, EnsureKV).
func streamOwn(stream string) []string {
	return append(streamRead(stream), "$JS.API.STREAM.CREATE."+stream, "$JS.API.STREAM.UPDATE."+stream)
}

// bucketOwn is a key-value bucket its service creates, reads, writes and
// watches.
func bucketOwn(bucket string) []string {
	return append(streamOwn("KV_"+bucket), "$KV."+bucket+".>")
}

// inboxOf: every user receives its replies (publish acks, API answers,
// pulled messages) under its own prefix (natsx.InboxPrefix), which no
// other user may subscribe to.
func inboxOf(user string) []string { return []string{natsx.InboxPrefix(user) + ".>"} }

// noEvents is denied explicitly to every user that must never write an
// event or a bucket, on top of the allow lists.
var noEvents = []string{"predikat.>", "$KV.>", "$JS.API.STREAM.UPDATE.>", "$JS.API.STREAM.DELETE.>", "$JS.API.STREAM.PURGE.>",
	"$JS.API.STREAM.MSG.DELETE.>"}

// NATSPermissions are what a user of the stack may do on NATS; nil for the
// admin, who may do everything.
func NATSPermissions(user string) (*server.Permissions, error) {
	var pub, sub, deny []string
	switch user {
	case Registry:
		for _, b := range registryBuckets {
			pub = append(pub, bucketOwn(b)...)
		}
		sub = inboxOf(user)
		deny = []string{"predikat.>"}
	case Assessment:
		pub = []string{events.AssessmentAll, events.RoundAll, events.AwardAll, events.CeremonyAll, events.SurveyAll, events.SurveyProfileAll}
		for _, s := range events.StreamNames() {
			pub = append(pub, streamOwn(s)...)
		}
		for _, b := range assessmentBuckets {
			pub = append(pub, bucketOwn(b)...)
		}
		sub = inboxOf(user)
	case Ranking:
		// The boards follow ASSESSMENTS and ROUNDS; ranking may create
		// either when it starts first (never update), and writes nothing.
		for _, s := range []string{events.Assessments, events.Rounds} {
			pub = append(pub, streamRead(s)...)
			pub = append(pub, "$JS.API.STREAM.CREATE."+s)
		}
		sub = inboxOf(user)
		deny = noEvents
	case NATSSubscriber:
		pub, sub, deny = SubscriberPermissions(user)
	case NATSAdmin:
		return nil, nil
	default:
		return nil, fmt.Errorf("no NATS user %q", user)
	}
	// The account's JetStream info (limits, usage): read-only, asked for
	// by the clients' set-up.
	pub = append(pub, "$JS.API.INFO")
	return &server.Permissions{
		Publish:   &server.SubjectPermission{Allow: pub, Deny: deny},
		Subscribe: &server.SubjectPermission{Allow: sub},
	}, nil
}

// SubscriberPermissions are what an award subscriber's NATS user may do:
// create (or resume), read and acknowledge the one durable consumer on
// AWARDS named after the user, and subscribe to the award subjects; never
// delete a consumer, never touch another subscriber's, publish nothing.
// Every subscribing system gets a user of its own with these permissions,
// so none can read or acknowledge away another's awards.
func SubscriberPermissions(user string) (pub, sub, deny []string) {
	pub = []string{
		"$JS.API.STREAM.INFO." + events.Awards,
		"$JS.API.CONSUMER.CREATE." + events.Awards + "." + user,
		"$JS.API.CONSUMER.CREATE." + events.Awards + "." + user + ".>",
		"$JS.API.CONSUMER.INFO." + events.Awards + "." + user,
		"$JS.API.CONSUMER.MSG.NEXT." + events.Awards + "." + user,
		"$JS.ACK." + events.Awards + "." + user + ".>",
	}
	sub = slices.Concat([]string{events.AwardAll}, inboxOf(user))
	deny = slices.Concat(noEvents, []string{"$JS.API.CONSUMER.DELETE.>"})
	return pub, sub, deny
}

// NATSUsers are the users of the stack's embedded server, with the
// passwords of pki.
func NATSUsers(pki *devpki.Files) ([]*server.User, error) {
	users := make([]*server.User, 0, len(devpki.NATSUsers))
	for _, name := range devpki.NATSUsers {
		pw, err := pki.ReadNATSPassword(name)
		if err != nil {
			return nil, err
		}
		perms, err := NATSPermissions(name)
		if err != nil {
			return nil, err
		}
		users = append(users, &server.User{Username: name, Password: pw, Permissions: perms})
	}
	return users, nil
}

// NATSServerTLS is the embedded server's TLS: the PKI's NATS certificate,
// TLS 1.3 only.
func NATSServerTLS(pki *devpki.Files) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(pki.NATSCert(), pki.NATSKey())
	if err != nil {
		return nil, fmt.Errorf("NATS server certificate: %w", err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS13}, nil
}

// NATSClient is how user connects to the stack's NATS: its password file
// from pki and, when the server speaks TLS (the embedded one does), the
// PKI's CA to verify it.
func NATSClient(pki *devpki.Files, user string, tls bool) natsx.ClientAuth {
	a := natsx.ClientAuth{User: user, PasswordFile: pki.NATSPassword(user)}
	if tls {
		a.CAFile = pki.CA()
	}
	return a
}
