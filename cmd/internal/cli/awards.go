package cli

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/predikat-id/predikat/cmd/internal/cli/importfile"
	"github.com/predikat-id/predikat/pkg/awardfeed"
	"github.com/predikat-id/predikat/pkg/decimal"
	"github.com/predikat-id/predikat/pkg/events"
	assessmentv1 "github.com/predikat-id/predikat/pkg/gen/predikat/assessment/v1"
	"github.com/predikat-id/predikat/pkg/platform/devpki"
	"github.com/predikat-id/predikat/pkg/platform/natsx"
)

func cmdAwardsList(fs *flag.FlagSet, s *session) func(context.Context, []string) error {
	req := &assessmentv1.ListAwardsRequest{PageSize: 1000}
	fs.StringVar(&req.InstitutionId, "institution", "", "only this institution")
	year := fs.Int("year", 0, "only awards for this assessment year")
	fs.StringVar(&req.SchemeId, "scheme", "", "only this scheme")
	fs.StringVar(&req.RoundId, "round", "", "only this round, e.g. ombudsman-2024")
	fs.StringVar(&req.ProvinceCode, "province", "", "only institutions of this province, e.g. 63 (00: national bodies)")
	fs.StringVar(&req.CeremonyName, "ceremony", "", "only ceremonies whose name contains these words")
	fs.StringVar(&req.CeremonyDate, "date", "", "only awards presented on this day, YYYY-MM-DD")
	bases := fs.String("basis", "", "only these bases, comma-separated: band, rank, category, manual")
	state := fs.String("state", "granted", "granted, revoked or all")
	return func(ctx context.Context, args []string) error {
		if err := needArgs(args, 0, ""); err != nil {
			return err
		}
		if err := checkProvince(req.ProvinceCode); err != nil {
			return err
		}
		req.Year = int32(*year)
		if err := awardFilters(req, *state, *bases); err != nil {
			return err
		}
		return s.listAwards(ctx, req)
	}
}

// awardFilters sets the state and basis filters of "awards list".
func awardFilters(req *assessmentv1.ListAwardsRequest, state, bases string) error {
	switch strings.ToLower(state) {
	case "granted":
		req.State = assessmentv1.AwardState_AWARD_STATE_GRANTED
	case "revoked":
		req.State = assessmentv1.AwardState_AWARD_STATE_REVOKED
	case "all", "":
	default:
		return usagef("--state %q: one of granted, revoked, all", state)
	}
	for b := range strings.SplitSeq(bases, ",") {
		if b = strings.TrimSpace(b); b == "" {
			continue
		}
		v, ok := assessmentv1.AwardBasisKind_value["AWARD_BASIS_KIND_"+strings.ToUpper(b)]
		if !ok || v == 0 {
			return usagef("--basis %q: one of band, rank, category, manual", b)
		}
		req.BasisKinds = append(req.BasisKinds, assessmentv1.AwardBasisKind(v))
	}
	return nil
}

// listAwards prints every page of the answer, newest ceremony first.
func (s *session) listAwards(ctx context.Context, req *assessmentv1.ListAwardsRequest) error {
	all, err := allPages(ctx, req, func(r *assessmentv1.ListAwardsRequest, t string) { r.PageToken = t },
		s.asm.ListAwards, (*assessmentv1.ListAwardsResponse).GetAwards)
	if err != nil {
		return err
	}
	if len(all) == 0 {
		return s.none("awards match")
	}
	sortAwards(all)
	if s.json {
		for _, a := range all {
			if err := s.emit(a); err != nil {
				return err
			}
		}
		return nil
	}
	return renderAwards(s.out, all)
}

func cmdAwardsGrant(fs *flag.FlagSet, s *session) func(context.Context, []string) error {
	req := &assessmentv1.GrantAwardRequest{}
	fs.StringVar(&req.InstitutionId, "institution", "", "institution id (required)")
	fs.StringVar(&req.Title, "title", "", "title on the certificate (required)")
	c := ceremonyFlags(fs)
	fs.StringVar(&req.SchemeId, "scheme", "", "scheme the award refers to")
	year := fs.Int("year", 0, "assessment year the award is for")
	fs.StringVar(&req.Score, "score", "", "score reported with the award, e.g. 84,07")
	fs.StringVar(&req.BandCode, "band", "", "band reported with the award, e.g. A, AA, sehat")
	rank := fs.Int("rank", 0, "rank reported with the award, e.g. 3 for \"Tertinggi III\"")
	fs.StringVar(&req.PeerGroup, "peer-group", "", "peer group of the rank, e.g. pemda")
	fs.StringVar(&req.Scope, "scope", "", "scope of the rank: 00 or a province code (needs --peer-group)")
	fs.StringVar(&req.Notes, "notes", "", "free text")
	src := &assessmentv1.Source{}
	fs.StringVar(&src.Title, "source-title", "", "title of the article or document reporting the award")
	fs.StringVar(&src.Publisher, "source-publisher", "", "its publisher")
	fs.StringVar(&src.Url, "source-url", "", "its address")
	fs.StringVar(&src.PublishedDate, "source-date", "", "its publication date, YYYY-MM-DD")
	fs.StringVar(&req.RequestId, "request-id", "", "idempotency key (default: derived from institution, title and ceremony)")
	return func(ctx context.Context, args []string) error {
		if err := needArgs(args, 0, ""); err != nil {
			return err
		}
		if err := required("institution", req.InstitutionId, "title", req.Title); err != nil {
			return err
		}
		var err error
		if req.Ceremony, req.PresentedBy, err = c.build(true); err != nil {
			return err
		}
		req.Year, req.Rank = int32(*year), int32(*rank)
		if req.Score != "" {
			d, err := decimal.Parse(req.Score)
			if err != nil || d.Sign() < 0 {
				return usagef("--score %q is not a score such as 84,07", req.Score)
			}
			req.Score = d.String()
		}
		if src.Title+src.Publisher+src.Url+src.PublishedDate != "" {
			req.Source = src
		}
		if req.RequestId == "" {
			req.RequestId = GrantRequestID(req)
		}
		resp, err := s.asm.GrantAward(ctx, req)
		if err != nil {
			return err
		}
		a := resp.GetAward()
		if resp.GetCreated() {
			line(s.out, "granted %s to %s: %s (request id %s)", a.GetId(), a.GetInstitution().GetId(), a.GetTitle(), req.RequestId)
		} else {
			line(s.out, "already granted: %s to %s: %s (request id %s)", a.GetId(), a.GetInstitution().GetId(), a.GetTitle(), req.RequestId)
		}
		return nil
	}
}

func cmdAwardsRevoke(fs *flag.FlagSet, s *session) func(context.Context, []string) error {
	reason := fs.String("reason", "", "why (required)")
	return func(ctx context.Context, args []string) error {
		if err := needArgs(args, 1, "AWARD_ID"); err != nil {
			return err
		}
		if err := required("reason", *reason); err != nil {
			return err
		}
		resp, err := s.asm.RevokeAward(ctx, &assessmentv1.RevokeAwardRequest{AwardId: args[0], Reason: *reason})
		if err != nil {
			return err
		}
		line(s.out, "revoked %s (%s): %s", resp.GetAward().GetId(), resp.GetAward().GetTitle(), resp.GetAward().GetRevokeReason())
		return nil
	}
}

func cmdAwardsWatch(fs *flag.FlagSet, s *session) func(context.Context, []string) error {
	var f awardfeed.Filter
	fs.StringVar(&f.ProvinceCode, "province", "", "only institutions of this province, e.g. 63 (00: national bodies)")
	fs.StringVar(&f.SchemeID, "scheme", "", "only this scheme")
	year := fs.Int("year", 0, "only this assessment year")
	kind := fs.String("kind", "", "only this institution kind: "+importfile.KindTokens)
	fs.StringVar(&f.InstitutionID, "institution", "", "only this institution")
	fs.BoolVar(&f.IncludeRevoked, "revoked", false, "also print revocations")
	name := fs.String("name", "", "watch through the durable consumer of this name: a later run with the same name first shows what was granted meanwhile")
	durable := fs.Bool("durable", false, "watch through a durable consumer of the default name: the NATS user's own (the one a subscriber user may use), or one derived from you and the filter for a NATS without users or as admin")
	expire := fs.Duration("expire", 30*24*time.Hour, "a durable consumer nobody has used for this long is deleted by the server (0: kept until \"awards unwatch\")")
	nf := defineNATSFlags(fs, s.app, devNATSSubscriber)
	return func(ctx context.Context, args []string) error {
		if err := needArgs(args, 0, ""); err != nil {
			return err
		}
		if err := checkProvince(f.ProvinceCode); err != nil {
			return err
		}
		f.Year = int32(*year)
		if *kind != "" {
			k, err := importfile.ParseKind(*kind)
			if err != nil {
				return usagef("--kind: %v", err)
			}
			f.Kind = events.KindToken(k)
		}
		for _, tok := range []string{f.SchemeID, f.InstitutionID} {
			if strings.ContainsAny(tok, ".*> \t") {
				return usagef("%q cannot be part of a subject filter", tok)
			}
		}
		switch {
		case *name != "" && !durablePattern.MatchString(*name):
			return usagef("--name %q: letters, digits, '-' and '_' only", *name)
		case *name == "" && *durable:
			*name = nf.durable(s.actor, f)
		}
		return s.watch(ctx, f, *name, *expire, nf.auth())
	}
}

func cmdAwardsUnwatch(fs *flag.FlagSet, s *session) func(context.Context, []string) error {
	name := fs.String("name", "", "the durable consumer to delete (required)")
	nf := defineNATSFlags(fs, s.app, "admin")
	return func(ctx context.Context, args []string) error {
		if err := needArgs(args, 0, ""); err != nil {
			return err
		}
		if err := required("name", *name); err != nil {
			return err
		}
		return s.withJetStream(ctx, nf.auth(), func(js jetstream.JetStream) error {
			if err := js.DeleteConsumer(ctx, events.Awards, *name); err != nil {
				if errors.Is(err, jetstream.ErrConsumerNotFound) {
					return fmt.Errorf("no durable award watch named %q", *name)
				}
				return fmt.Errorf("delete the award watch %q: %w (deleting takes a NATS user allowed to: --nats-user admin)", *name, err)
			}
			_, err := fmt.Fprintf(s.out, "deleted the award watch %q\n", *name)
			return err
		})
	}
}

// natsFlags are the NATS credentials of "awards watch": the dev stack's
// subscriber user (it may read AWARDS through its own durable consumers
// and publish nothing) with its password file and the CA of the dev PKI,
// as the gRPC credentials default to the PKI's admin certificate.
type natsFlags struct {
	pki, user, passwordFile, ca string
}

func defineNATSFlags(fs *flag.FlagSet, a *App, user string) *natsFlags {
	nf := &natsFlags{}
	a.pkiFlag(fs, &nf.pki)
	fs.StringVar(&nf.user, "nats-user", a.env("PREDIKAT_NATS_USER", user), "NATS user (env PREDIKAT_NATS_USER)")
	fs.StringVar(&nf.passwordFile, "nats-password-file", a.env("PREDIKAT_NATS_PASSWORD_FILE", ""),
		"file with the NATS user's password; default nats-<user>.pass of --pki when it exists (env PREDIKAT_NATS_PASSWORD_FILE)")
	fs.StringVar(&nf.ca, "nats-ca", a.env("PREDIKAT_NATS_CA", ""),
		"CA (PEM) of the NATS server's certificate, making the connection TLS only; default ca.pem of --pki when it exists, \"none\" for plain TCP (env PREDIKAT_NATS_CA)")
	return nf
}

// durable is the default durable consumer name: a subscriber user may use
// only the one named after it; without users, or as admin, a name of the
// actor and the filter keeps different watches apart.
func (nf *natsFlags) durable(actor string, f awardfeed.Filter) string {
	if nf.user == "" || nf.user == "admin" {
		return DurableName(actor, f)
	}
	return nf.user
}

// devNATSSubscriber is the dev stack's NATS user for award subscribers.
const devNATSSubscriber = "subscriber"

// auth resolves the flags: what is not set comes from the PKI, when the
// PKI has it (a NATS without users needs none).
func (nf *natsFlags) auth() natsx.ClientAuth {
	files := devpki.At(nf.pki)
	a := natsx.ClientAuth{User: nf.user, PasswordFile: nf.passwordFile, CAFile: nf.ca}
	if a.PasswordFile == "" && exists(files.NATSPassword(nf.user)) {
		a.PasswordFile = files.NATSPassword(nf.user)
	}
	switch {
	case a.CAFile == "none":
		a.CAFile = ""
	case a.CAFile == "" && exists(files.CA()):
		a.CAFile = files.CA()
	}
	return a
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// GrantRequestID derives a manual award's idempotency key from what
// identifies it: institution, title and ceremony.
func GrantRequestID(req *assessmentv1.GrantAwardRequest) string {
	sum := sha256.Sum256([]byte(strings.Join([]string{"grant/v1", req.GetInstitutionId(), req.GetTitle(),
		req.GetCeremony().GetName(), req.GetCeremony().GetDate(), req.GetSchemeId(), fmt.Sprint(req.GetYear())}, "\x00")))
	return "grant-" + hex.EncodeToString(sum[:16])
}

var durablePattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// DurableName is the default consumer name of a watch: the same user and
// filter give the same name, so a second run resumes where the first
// stopped.
func DurableName(actor string, f awardfeed.Filter) string {
	user := regexp.MustCompile(`[^A-Za-z0-9_-]+`).ReplaceAllString(strings.TrimPrefix(actor, "cli:"), "_")
	if len(user) > 24 {
		user = user[:24]
	}
	sum := sha256.Sum256([]byte(strings.Join(f.Subjects(), " ")))
	return "predikat-cli-" + user + "-" + hex.EncodeToString(sum[:6])
}

// withJetStream connects to NATS with creds and runs fn.
func (s *session) withJetStream(ctx context.Context, creds natsx.ClientAuth, fn func(jetstream.JetStream) error) error {
	return s.withNATS(ctx, creds, func(nc *nats.Conn) error {
		js, err := jetstream.New(nc)
		if err != nil {
			return err
		}
		return fn(js)
	})
}

// withNATS connects to NATS with creds and runs fn.
func (s *session) withNATS(ctx context.Context, creds natsx.ClientAuth, fn func(*nats.Conn) error) error {
	log := slog.New(slog.NewTextHandler(s.err, &slog.HandlerOptions{Level: slog.LevelWarn}))
	opts, err := creds.Options()
	if err != nil {
		return err
	}
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	nc, err := natsx.Connect(cctx, s.natsURL, "predikat-cli", log, opts...)
	cancel()
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("cannot reach NATS at %s as %q (%v). Is the stack running (make run)? Otherwise set --nats or PREDIKAT_NATS_URL, and the credentials (--pki, --nats-user, --nats-password-file, --nats-ca)", s.natsURL, creds.User, err)
	}
	defer nc.Close()
	return fn(nc)
}

// watch prints award events: live (no consumer kept on the server, nothing
// replayed) without a name, through the durable consumer name otherwise.
func (s *session) watch(ctx context.Context, f awardfeed.Filter, name string, expire time.Duration, creds natsx.ClientAuth) error {
	var mu sync.Mutex
	handle := func(_ context.Context, ev awardfeed.Event) error {
		mu.Lock()
		defer mu.Unlock()
		if s.json {
			if ev.Granted != nil {
				return s.emit(ev.Granted)
			}
			return s.emit(ev.Revoked)
		}
		shown := ""
		if ev.Granted != nil {
			shown = awardLine("granted", ev.Granted.GetAward())
		} else {
			shown = awardLine("revoked", ev.Revoked.GetAward())
		}
		_, err := fmt.Fprintln(s.out, shown)
		return err
	}
	return s.withNATS(ctx, creds, func(nc *nats.Conn) error {
		if name == "" {
			fmt.Fprintf(s.err, "watching %s live; Ctrl-C stops. Awards granted while nobody watches are not shown: --durable or --name keeps a consumer that catches up\n", strings.Join(f.Subjects(), " "))
			return awardfeed.Live(ctx, nc, f, handle)
		}
		js, err := jetstream.New(nc)
		if err != nil {
			return err
		}
		fmt.Fprintf(s.err, "watching %s as %q; Ctrl-C stops, the same command later shows what was granted meanwhile (\"predikat awards unwatch --name %s\" deletes it)\n", strings.Join(f.Subjects(), " "), name, name)
		sub, err := awardfeed.Subscribe(ctx, js, name, f, handle, awardfeed.ExpireAfter(expire))
		if err != nil {
			return fmt.Errorf("%w (the AWARDS stream is created by the assessment service: is it running?)", err)
		}
		<-ctx.Done()
		sub.Stop()
		return nil
	})
}
