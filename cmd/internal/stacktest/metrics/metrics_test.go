// Package metrics_test proves on a running stack that every service serves
// the metrics operators alert on: per-RPC rates, codes and latencies, and
// what only Predikat knows (consumer lag, apply latency, rebuilds, records
// per round, index size, connection state).
package metrics_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/promql/parser"
	"gopkg.in/yaml.v3"

	"github.com/predikat-id/predikat/cmd/internal/stack"
	"github.com/predikat-id/predikat/cmd/internal/stacktest"
	assessmentv1 "github.com/predikat-id/predikat/pkg/gen/predikat/assessment/v1"
	rankingv1 "github.com/predikat-id/predikat/pkg/gen/predikat/ranking/v1"
	registryv1 "github.com/predikat-id/predikat/pkg/gen/predikat/registry/v1"
	"github.com/predikat-id/predikat/pkg/platform/testenv/eventtest"
	"github.com/predikat-id/predikat/pkg/platform/testenv/natstest"
	"github.com/predikat-id/predikat/pkg/platform/testenv/redistest"
)

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func scrape(t *testing.T, addr string) string {
	t.Helper()
	req, err := http.NewRequestWithContext(ctxT(t), http.MethodGet, "http://"+addr+"/metrics", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("scrape %s: %v", addr, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape %s: %d, %v", addr, resp.StatusCode, err)
	}
	return string(b)
}

func TestEveryServiceShowsItsMetrics(t *testing.T) {
	ns := natstest.Start(t)
	maddrs := map[string]string{stack.Registry: freeAddr(t), stack.Assessment: freeAddr(t), stack.Ranking: freeAddr(t)}
	svcs := stacktest.Services(t, ns, stack.ServicesOptions{RedisAddr: redistest.Start(t).Addr(), MetricsAddrs: maddrs})
	addrs := map[string]string{}
	for _, name := range stack.All {
		reg := ""
		if name != stack.Registry {
			reg = addrs[stack.Registry]
		}
		addr, err := svcs.Start(name, "127.0.0.1:0", reg)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		addrs[name] = addr
	}
	insts := []eventtest.Inst{
		{ID: "pemkab-hss", Name: "Pemerintah Kabupaten Hulu Sungai Selatan", Kind: eventtest.Pemkab, Region: "63.06"},
		{ID: "pemkab-tapin", Name: "Pemerintah Kabupaten Tapin", Kind: eventtest.Pemkab, Region: "63.05"},
	}
	(&stacktest.Registry{Client: registryv1.NewRegistryServiceClient(stacktest.Dial(t, addrs[stack.Registry], "admin"))}).Create(t, insts...)
	asm := assessmentv1.NewAssessmentServiceClient(stacktest.Dial(t, addrs[stack.Assessment], "admin"))
	if _, err := asm.CreateRound(ctxT(t), &assessmentv1.CreateRoundRequest{SchemeId: "ombudsman", Year: 2024}); err != nil {
		t.Fatal(err)
	}
	for i, in := range insts {
		if _, err := asm.RecordAssessment(ctxT(t), &assessmentv1.RecordAssessmentRequest{RoundId: "ombudsman-2024", InstitutionId: in.ID,
			Input:     &assessmentv1.AssessmentInput{Result: &assessmentv1.AssessmentInput_ReportedTotal{ReportedTotal: []string{"96.52", "88.10"}[i]}},
			RequestId: "m-" + in.ID}); err != nil {
			t.Fatal(err)
		}
	}
	rank := rankingv1.NewRankingServiceClient(stacktest.Dial(t, addrs[stack.Ranking], "admin"))
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := rank.GetLeaderboard(ctxT(t), &rankingv1.GetLeaderboardRequest{Board: &rankingv1.BoardKey{SchemeId: "ombudsman", Year: 2024, PeerGroup: "pemda", Scope: "63"}})
		if err == nil && resp.GetTotalEntries() == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("board never had both entries: %v, %v", resp, err)
		}
		time.Sleep(50 * time.Millisecond)
	}

	want := map[string][]string{
		stack.Registry: {
			`re:grpc_server_handled_total\{grpc_code="OK",grpc_method="CreateInstitution",grpc_service="predikat.registry.v1.RegistryService",grpc_type="unary"\} [1-9]`,
			`grpc_server_handling_seconds_bucket{grpc_method="CreateInstitution"`,
			"predikat_registry_index_institutions 2",
			`predikat_jetstream_stream_leader{stream="KV_registry_institutions"} 1`,
			`predikat_jetstream_stream_replicas_current{stream="KV_registry_institutions"} 1`,
			"predikat_nats_connected 1",
			"go_goroutines ",
		},
		stack.Assessment: {
			`grpc_server_handled_total{grpc_code="OK",grpc_method="RecordAssessment",`,
			// Every method shows from the start, at zero.
			`grpc_server_handled_total{grpc_code="OK",grpc_method="PublishRound",grpc_service="predikat.assessment.v1.AssessmentService",grpc_type="unary"} 0`,
			`predikat_assessment_round_records{scheme="ombudsman",state="open",year="2024"} 2`,
			`predikat_assessment_round_awards{scheme="ombudsman",state="open",year="2024"} 0`,
			`predikat_jetstream_stream_leader{stream="ASSESSMENTS"} 1`,
			`predikat_jetstream_stream_replicas{stream="ASSESSMENTS"} 1`,
			`predikat_jetstream_stream_replicas_current{stream="AWARDS"} 1`,
			`predikat_jetstream_stream_messages{stream="ASSESSMENTS"} 2`,
			`predikat_jetstream_stream_leader{stream="KV_assessment_rounds"} 1`,
			`predikat_assessment_award_events_total{event="granted"} 0`,
			`predikat_assessment_award_publish_seconds_count{event="revoked"} 0`,
			// Two records one after another: each went alone.
			`predikat_assessment_group_commit_records_total 0`,
			"predikat_nats_connected 1",
		},
		stack.Ranking: {
			`grpc_server_handled_total{grpc_code="OK",grpc_method="GetLeaderboard",`,
			`predikat_ranking_consumer_lag{stream="ASSESSMENTS"} 0`,
			`predikat_ranking_consumer_pending{stream="ASSESSMENTS"} 0`,
			`predikat_ranking_consumer_stalled{stream="ASSESSMENTS"} 0`,
			`predikat_ranking_apply_seconds_bucket{stream="ASSESSMENTS",`,
			`re:predikat_ranking_events_applied_total\{stream="ASSESSMENTS"\} [1-9]`,
			`predikat_ranking_rebuilds_total{result="ok"} `,
			`predikat_ranking_rebuild_seconds_count `,
			"predikat_ranking_serving 1",
			"predikat_nats_connected 1",
			"predikat_redis_connected 1",
		},
	}
	for name, lines := range want {
		var body string
		// The watchdog sets the consumer gauges once a second.
		deadline := time.Now().Add(10 * time.Second)
		for {
			body = scrape(t, maddrs[name])
			missing := ""
			for _, l := range lines {
				// "re:" marks a pattern (a count that must not be 0).
				if re, ok := strings.CutPrefix(l, "re:"); ok && !regexp.MustCompile(re).MatchString(body) || !ok && !strings.Contains(body, l) {
					missing = l
					break
				}
			}
			if missing == "" {
				break
			}
			if time.Now().After(deadline) {
				t.Errorf("%s /metrics lacks %q", name, missing)
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	// Publishing the round grants awards: counted, with the time each
	// publication took.
	if _, err := asm.CloseRound(ctxT(t), &assessmentv1.CloseRoundRequest{RoundId: "ombudsman-2024"}); err != nil {
		t.Fatal(err)
	}
	pub, err := asm.PublishRound(ctxT(t), &assessmentv1.PublishRoundRequest{RoundId: "ombudsman-2024", ForceReason: "test: published at once",
		Ceremony: &assessmentv1.Ceremony{Name: "Penganugerahan Predikat Kepatuhan 2024", Place: "Banjarmasin", Date: "2024-12-11"}})
	if err != nil || pub.GetAwardsGranted() == 0 {
		t.Fatalf("publish: %v, %v", pub, err)
	}
	body := scrape(t, maddrs[stack.Assessment])
	for _, l := range []string{
		fmt.Sprintf(`predikat_assessment_award_events_total{event="granted"} %d`, pub.GetAwardsGranted()),
		fmt.Sprintf(`predikat_assessment_award_publish_seconds_count{event="granted"} %d`, pub.GetAwardsGranted()),
		`predikat_assessment_award_events_total{event="revoked"} 0`,
		fmt.Sprintf(`predikat_assessment_round_awards{scheme="ombudsman",state="published",year="2024"} %d`, pub.GetAwardsGranted()),
	} {
		if !strings.Contains(body, l) {
			t.Errorf("assessment /metrics lacks %q after the round was published", l)
		}
	}
	// Once the watchdog has set the consumer gauges (waited for above).
	t.Run("every alert and dashboard query names served metrics", func(t *testing.T) {
		var bodies []string
		for _, a := range maddrs {
			bodies = append(bodies, scrape(t, a))
		}
		checkMonitoring(t, strings.Join(bodies, "\n"))
	})
}

// monitoring is the repository's monitoring directory.
const monitoring = "../../../../deploy/kubernetes/monitoring"

// checkMonitoring parses every alert rule and dashboard query with the
// PromQL parser and wants each metric it selects among the served ones
// (a histogram's series by their _bucket, _sum and _count names).
func checkMonitoring(t *testing.T, served string) {
	t.Helper()
	names := map[string]bool{}
	for _, line := range strings.Split(served, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, _, _ := strings.Cut(line, " ")
		name, _, _ = strings.Cut(name, "{")
		names[name] = true
	}
	exprs := map[string]string{}
	var rule struct {
		Spec struct {
			Groups []struct {
				Rules []struct {
					Alert, Expr string
				}
			}
		}
	}
	b, err := os.ReadFile(filepath.Join(monitoring, "prometheusrule.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, &rule); err != nil {
		t.Fatal(err)
	}
	for _, g := range rule.Spec.Groups {
		for _, r := range g.Rules {
			exprs["alert "+r.Alert] = r.Expr
		}
	}
	var dash struct {
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
	}
	if b, err = os.ReadFile(filepath.Join(monitoring, "grafana-dashboard.json")); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &dash); err != nil {
		t.Fatal(err)
	}
	for _, p := range dash.Panels {
		for i, tg := range p.Targets {
			exprs[fmt.Sprintf("panel %q query %d", p.Title, i)] = tg.Expr
		}
	}
	if len(exprs) < 10 {
		t.Fatalf("only %d queries found", len(exprs))
	}
	for where, expr := range exprs {
		e, err := parser.NewParser(parser.Options{}).ParseExpr(expr)
		if err != nil {
			t.Errorf("%s: %v", where, err)
			continue
		}
		selected := 0
		parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
			vs, ok := n.(*parser.VectorSelector)
			if !ok {
				return nil
			}
			selected++
			if !names[vs.Name] {
				t.Errorf("%s selects %s, which no service serves", where, vs.Name)
			}
			return nil
		})
		if selected == 0 {
			t.Errorf("%s selects no metric", where)
		}
	}
}
