// Package cli is the predikat command line (everything but `predikat dev`):
// importing institutions and results, running rounds, reading boards,
// standings, statistics and award histories, and watching awards as they
// are granted. Each command is a thin layer: it parses flags, calls the
// services' gRPC APIs, and renders the answer as an aligned table or, with
// --json, as protojson (one object per line).
package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	assessmentv1 "github.com/predikat-id/predikat/pkg/gen/predikat/assessment/v1"
	rankingv1 "github.com/predikat-id/predikat/pkg/gen/predikat/ranking/v1"
	registryv1 "github.com/predikat-id/predikat/pkg/gen/predikat/registry/v1"
	"github.com/predikat-id/predikat/pkg/platform/auth"
	"github.com/predikat-id/predikat/pkg/platform/config"
	"github.com/predikat-id/predikat/pkg/platform/grpcserver"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// App runs predikat commands. Main builds one for the process; tests build
// their own with buffers and an in-process server.
type App struct {
	Stdout, Stderr io.Writer
	// Getenv reads the environment (os.Getenv).
	Getenv func(string) string
	// Dial opens a client connection (grpcserver.Dial). It is given the
	// credentials options first; options it appends win.
	Dial func(target string, opts ...grpc.DialOption) (*grpc.ClientConn, error)
	// Credentials, when set, turns the credentials the command line names
	// (--ca, --cert, --key, --token, defaults from the dev PKI) into dial
	// options instead of auth.ClientCredentials.DialOptions: tests use it to
	// present their own stack's credentials, or none to a plaintext
	// in-process server. Tests can also point the flags' defaults elsewhere
	// through Getenv (PREDIKAT_PKI, PREDIKAT_CA, ...).
	Credentials func(auth.ClientCredentials) ([]grpc.DialOption, error)
	// Progress draws progress bars on Stderr (true when it is a terminal).
	Progress bool
}

// Main runs the command in args (without the program name) and returns the
// exit code: 0 done, 1 failed, 2 wrong usage.
func Main(ctx context.Context, args []string) int {
	a := &App{Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv, Dial: grpcserver.Dial, Progress: isTerminal(os.Stderr)}
	return a.Run(ctx, args)
}

func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// service is a bit set of what a command talks to; it decides which address
// flags the command has.
type service uint8

const (
	useRegistry service = 1 << iota
	useAssessment
	useRanking
	useNATS
)

// spec describes one command.
type spec struct {
	path     string // "institutions import"
	args     string // positional arguments, for the usage line
	summary  string // one line, for the command list
	about    string // what it does, for -h
	examples []string
	uses     service
	read     bool // a read command: --json
	// setup defines the command's flags on fs and returns the function that
	// runs it with the positional arguments.
	setup func(fs *flag.FlagSet, s *session) func(ctx context.Context, args []string) error
}

// session is one command's run: its output, flags and connections.
type session struct {
	app      *App
	out, err io.Writer
	json     bool
	timeout  time.Duration
	actor    string
	addr     map[service]*string
	natsURL  string
	creds    credFlags
	credOpts []grpc.DialOption // resolved once, shared by every connection
	conns    []*grpc.ClientConn
	reg      registryv1.RegistryServiceClient
	asm      assessmentv1.AssessmentServiceClient
	obj      assessmentv1.ObjectionServiceClient
	cer      assessmentv1.CeremonyServiceClient
	svy      assessmentv1.SurveyServiceClient
	rank     rankingv1.RankingServiceClient
	progress bool
}

type endpoint struct {
	svc         service
	name, env   string
	defaultAddr string
}

var endpoints = []endpoint{
	{useRegistry, "registry", "PREDIKAT_REGISTRY_ADDR", config.DefaultRegistry},
	{useAssessment, "assessment", "PREDIKAT_ASSESSMENT_ADDR", config.DefaultAssessment},
	{useRanking, "ranking", "PREDIKAT_RANKING_ADDR", config.DefaultRanking},
}

func (a *App) env(key, def string) string {
	if a.Getenv != nil {
		if v := strings.TrimSpace(a.Getenv(key)); v != "" {
			return v
		}
	}
	return def
}

// actor names the user in every call: "cli:ayu".
func (a *App) actor() string {
	for _, k := range []string{"USER", "LOGNAME", "USERNAME"} {
		if u := a.env(k, ""); u != "" {
			return "cli:" + u
		}
	}
	return "cli:unknown"
}

// usageError is wrong usage: exit code 2 and a pointer to -h.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{msg: fmt.Sprintf(format, args...)} }

// Run runs one command line.
func (a *App) Run(ctx context.Context, args []string) int {
	if len(args) == 0 {
		a.usage(a.Stderr)
		return 2
	}
	if slices.Contains([]string{"-h", "-help", "--help", "help"}, args[0]) {
		if len(args) > 1 {
			return a.Run(ctx, append(args[1:], "--help"))
		}
		a.usage(a.Stdout)
		return 0
	}
	var sp *spec
	var rest []string
	for _, s := range commands {
		words := strings.Fields(s.path)
		if len(args) >= len(words) && slices.Equal(args[:len(words)], words) && (sp == nil || len(words) > len(strings.Fields(sp.path))) {
			sp, rest = s, args[len(words):]
		}
	}
	if sp == nil {
		if group := a.group(args[0]); len(group) > 0 {
			help := len(args) > 1 && slices.Contains([]string{"-h", "-help", "--help", "help"}, args[1])
			w := a.Stderr
			if help {
				w = a.Stdout
			} else if len(args) > 1 {
				fmt.Fprintf(a.Stderr, "predikat %s: unknown command %q\n\n", args[0], args[1])
			}
			fmt.Fprintf(w, "Usage: predikat %s COMMAND [flags]\n\nCommands:\n", args[0])
			a.list(w, group)
			fmt.Fprintf(w, "\nRun \"predikat %s COMMAND -h\" for a command's flags and examples.\n", args[0])
			if help {
				return 0
			}
			return 2
		}
		fmt.Fprintf(a.Stderr, "predikat: unknown command %q\n\n", args[0])
		a.usage(a.Stderr)
		return 2
	}
	return a.run(ctx, sp, rest)
}

func (a *App) group(word string) []*spec {
	var out []*spec
	for _, s := range commands {
		if strings.HasPrefix(s.path, word+" ") {
			out = append(out, s)
		}
	}
	return out
}

func (a *App) list(w io.Writer, list []*spec) {
	width := 0
	for _, s := range list {
		width = max(width, len(s.path+" "+s.args))
	}
	for _, s := range list {
		fmt.Fprintf(w, "  %-*s  %s\n", width, strings.TrimSpace(s.path+" "+s.args), s.summary)
	}
}

func (a *App) usage(w io.Writer) {
	fmt.Fprint(w, `predikat: public-service assessments, grades, rankings and awards.

Usage: predikat COMMAND [flags]

Commands:
`)
	dev := &spec{path: "dev", summary: "run NATS and every service in one process (what \"make run\" does)"}
	a.list(w, append([]*spec{dev}, commands...))
	fmt.Fprint(w, `
Read commands take --json (protojson, one object per line). Service
addresses: --registry, --assessment, --ranking, or PREDIKAT_REGISTRY_ADDR,
PREDIKAT_ASSESSMENT_ADDR, PREDIKAT_RANKING_ADDR; NATS: --nats or
PREDIKAT_NATS_URL. Defaults are those of "predikat dev".

Calls go over TLS 1.3 and present the dev admin certificate of the PKI that
"predikat dev" creates (--pki, PREDIKAT_PKI; default .predikat/pki). Other
credentials: --ca, --cert, --key, --token (PREDIKAT_CA, PREDIKAT_CERT,
PREDIKAT_KEY, PREDIKAT_TOKEN); "predikat token --role reader" makes a token.

Examples:
  predikat board --scheme ombudsman --year 2024 --group pemda --province 63
  predikat awards list --institution pemkab-hss
  predikat awards watch --province 63

Run "predikat COMMAND -h" for a command's flags and examples.
`)
}

func (a *App) run(ctx context.Context, sp *spec, rest []string) int {
	s := &session{app: a, out: a.Stdout, err: a.Stderr, actor: a.actor(), addr: map[service]*string{}, progress: a.Progress}
	fs := flag.NewFlagSet("predikat "+sp.path, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	for _, e := range endpoints {
		if sp.uses&e.svc != 0 {
			s.addr[e.svc] = fs.String(e.name, a.env(e.env, e.defaultAddr), e.name+" gRPC address (env "+e.env+")")
		}
	}
	if sp.uses&useNATS != 0 {
		fs.StringVar(&s.natsURL, "nats", a.env("PREDIKAT_NATS_URL", config.DefaultNATSURL), "NATS server URL (env PREDIKAT_NATS_URL)")
	}
	if sp.read {
		fs.BoolVar(&s.json, "json", false, "print protojson, one object per line, instead of a table")
	}
	if sp.uses&(useRegistry|useAssessment|useRanking) != 0 {
		fs.DurationVar(&s.timeout, "timeout", 30*time.Second, "deadline of each call to a service")
		s.defineCredFlags(fs)
	}
	runFn := sp.setup(fs, s)
	pos, err := parseInterspersed(fs, rest)
	if errors.Is(err, flag.ErrHelp) {
		a.commandHelp(a.Stdout, sp, fs)
		return 0
	}
	if err == nil {
		err = s.dial(sp.uses)
		defer s.close()
	}
	if err == nil {
		err = runFn(ctx, pos)
	}
	if err == nil {
		return 0
	}
	var ue *usageError
	if errors.As(err, &ue) {
		line(a.Stderr, "predikat %s: %s", sp.path, ue.msg)
		line(a.Stderr, "Run \"predikat %s -h\" for usage.", sp.path)
		return 2
	}
	// A message of several lines (every problem of a file) keeps them,
	// each made printable on its own.
	msg := strings.Split(errorText(err), "\n")
	line(a.Stderr, "predikat %s: %s", sp.path, msg[0])
	for _, m := range msg[1:] {
		line(a.Stderr, "%s", m)
	}
	return 1
}

// errorText is what a user reads: a gRPC status as its message and code.
func errorText(err error) string {
	var re *rpcError
	if errors.As(err, &re) {
		return err.Error() // made to read well, wrapped or not
	}
	if _, ok := err.(interface{ GRPCStatus() *status.Status }); ok {
		st := status.Convert(err)
		return st.Message() + " (" + st.Code().String() + ")"
	}
	if errors.Is(err, context.Canceled) {
		return "interrupted"
	}
	return err.Error()
}

// parseInterspersed parses flags anywhere among the positional arguments, so
// "assessments import f.csv --round x" works like "--round x f.csv".
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			// An unknown or malformed flag is a usage error (exit 2).
			return nil, &usageError{msg: err.Error()}
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			return append(pos, rest...), nil
		}
		pos, args = append(pos, rest[0]), rest[1:]
	}
}

func (a *App) commandHelp(w io.Writer, sp *spec, fs *flag.FlagSet) {
	fmt.Fprintf(w, "Usage: predikat %s [flags]\n\n", strings.TrimSpace(sp.path+" "+sp.args))
	about := sp.about
	if about == "" {
		about = sp.summary
	}
	fmt.Fprintln(w, strings.TrimSpace(about))
	fmt.Fprintln(w, "\nFlags:")
	fs.VisitAll(func(f *flag.Flag) {
		name, usage := flag.UnquoteUsage(f)
		line := "  --" + f.Name
		if name != "" {
			line += " " + name
		}
		fmt.Fprintf(w, "%s\n      %s", line, usage)
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" && f.DefValue != "[]" {
			fmt.Fprintf(w, " (default %s)", f.DefValue)
		}
		fmt.Fprintln(w)
	})
	if len(sp.examples) > 0 {
		fmt.Fprintln(w, "\nExamples:")
		for _, e := range sp.examples {
			fmt.Fprintln(w, "  "+e)
		}
	}
}

func (s *session) dial(uses service) error {
	for _, e := range endpoints {
		if uses&e.svc == 0 {
			continue
		}
		target := *s.addr[e.svc]
		cc, err := s.connect(e, target)
		if err != nil {
			return err
		}
		s.conns = append(s.conns, cc)
		switch e.svc {
		case useRegistry:
			s.reg = registryv1.NewRegistryServiceClient(cc)
		case useAssessment:
			s.asm = assessmentv1.NewAssessmentServiceClient(cc)
			s.obj = assessmentv1.NewObjectionServiceClient(cc)
			s.cer = assessmentv1.NewCeremonyServiceClient(cc)
			s.svy = assessmentv1.NewSurveyServiceClient(cc)
		case useRanking:
			s.rank = rankingv1.NewRankingServiceClient(cc)
		}
	}
	return nil
}

func (s *session) close() {
	for _, cc := range s.conns {
		_ = cc.Close()
	}
}

// interceptor bounds each call and turns a failed call's status into an
// error that reads well when wrapped. It names no caller: the services take
// the actor from the credentials alone.
func (s *session) interceptor(e endpoint, target string) grpc.UnaryClientInterceptor {
	return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		if s.timeout > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, s.timeout)
			defer cancel()
		}
		err := invoker(ctx, method, req, reply, cc, opts...)
		if err == nil {
			return nil
		}
		return &rpcError{st: status.Convert(err), endpoint: e, target: target}
	}
}

// rpcError is a failed call: its Error is the status message and code (with
// a hint when the service cannot be reached), and it still carries the
// status for status.Code.
type rpcError struct {
	st       *status.Status
	endpoint endpoint
	target   string
}

func (e *rpcError) GRPCStatus() *status.Status { return e.st }

func (e *rpcError) Error() string {
	switch e.st.Code() {
	case codes.Canceled:
		return "interrupted"
	case codes.Unavailable:
		return fmt.Sprintf("%s at %s is unavailable: %s (Unavailable). Is the stack running (make run)? Otherwise set --%s or %s",
			e.endpoint.name, e.target, e.st.Message(), e.endpoint.name, e.endpoint.env)
	case codes.DeadlineExceeded:
		return fmt.Sprintf("%s at %s did not answer in time: %s (DeadlineExceeded); --timeout sets the limit", e.endpoint.name, e.target, e.st.Message())
	}
	return e.st.Message() + " (" + e.st.Code().String() + ")"
}

// emit prints m as one line of protojson (compacted, so the output is stable).
func (s *session) emit(m proto.Message) error {
	b, err := protojson.Marshal(m)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		return err
	}
	buf.WriteByte('\n')
	_, err = s.out.Write(buf.Bytes())
	return err
}

// none tells the user (on stderr, so scripts read an empty stdout) that
// nothing matched.
// emitAll prints each message of list as protojson, one per line.
func emitAll[M proto.Message](s *session, list []M) error {
	for _, m := range list {
		if err := s.emit(m); err != nil {
			return err
		}
	}
	return nil
}

func (s *session) none(what string) error {
	if !s.json {
		fmt.Fprintln(s.err, "no "+what)
	}
	return nil
}

func needArgs(args []string, n int, what string) error {
	switch {
	case len(args) < n:
		return usagef("missing %s", what)
	case len(args) > n:
		return usagef("unexpected argument %q", args[n])
	}
	return nil
}

func required(pairs ...string) error {
	var missing []string
	for i := 0; i+1 < len(pairs); i += 2 {
		if strings.TrimSpace(pairs[i+1]) == "" {
			missing = append(missing, "--"+pairs[i])
		}
	}
	if len(missing) > 0 {
		return usagef("missing %s", strings.Join(missing, ", "))
	}
	return nil
}
