package contracttest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// outsider is a program of another organisation that uses the public
// contract: the generated clients, the event contract, the award feed and
// the decimals.
const outsider = `package main

import (
	"fmt"

	"github.com/predikat-id/predikat/pkg/awardfeed"
	"github.com/predikat-id/predikat/pkg/decimal"
	"github.com/predikat-id/predikat/pkg/events"
	assessmentv1 "github.com/predikat-id/predikat/pkg/gen/predikat/assessment/v1"
	eventsv1 "github.com/predikat-id/predikat/pkg/gen/predikat/events/v1"
	rankingv1 "github.com/predikat-id/predikat/pkg/gen/predikat/ranking/v1"
	registryv1 "github.com/predikat-id/predikat/pkg/gen/predikat/registry/v1"
)

func main() {
	fmt.Println(awardfeed.Filter{ProvinceCode: "63"}.Subjects(), decimal.MustParse("96,52"), events.National,
		assessmentv1.NewAssessmentServiceClient, rankingv1.NewRankingServiceClient, registryv1.NewRegistryServiceClient,
		&eventsv1.AwardGranted{})
}
`

// TestPublicContractNeedsNoServers builds an outside program against the
// public module alone (no workspace) and fails when its module graph holds a
// NATS server or a Redis client: importing the API must not drag in what
// only the services run.
func TestPublicContractNeedsNoServers(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a separate module")
	}
	pub, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	gomod := "module example.org/outsider\n\ngo 1.26\n\nrequire github.com/predikat-id/predikat/pkg v0.0.0\n\nreplace github.com/predikat-id/predikat/pkg => " + pub + "\n"
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte(gomod), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(outsider), 0o644); err != nil {
		t.Fatal(err)
	}
	goCmd := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("go", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	goCmd("mod", "tidy")
	goCmd("build", "-o", os.DevNull, ".")
	graph := goCmd("mod", "graph")
	if !strings.Contains(graph, "google.golang.org/grpc@") {
		t.Fatalf("module graph does not even hold grpc: the check is broken\n%s", graph)
	}
	for _, banned := range []string{"github.com/nats-io/nats-server", "github.com/redis/go-redis"} {
		if strings.Contains(graph, banned) {
			t.Errorf("an outside program of the public contract needs %s:\n%s", banned, graph)
		}
	}
}
