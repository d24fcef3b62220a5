package store

import (
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/predikat-id/predikat/services/ranking/internal/board"
)

// The stored form is read by the Lua scripts and by every replica of every
// version sharing the layout: this golden string fails when a field moves
// or an enum is renumbered.
func TestEntryCodecGoldenAndRoundTrip(t *testing.T) {
	e := board.Entry{
		Revision: 2, Scored: true, Score: 9652, Band: "A", Basis: board.BasisReportedBand,
		Boards: []string{"pemda:00", "kabupaten:00", "pemda:63"}, Seq: 17, TimeMs: 1700000000000,
		Name: "Pemerintah Kabupaten\tHulu Sungai Selatan", Kind: 5, RegionCode: "63.06", RegionName: "Hulu Sungai Selatan", ProvinceCode: "63",
	}
	const golden = "2\t9652\t93161104\tA\t3\tpemda:00,kabupaten:00,pemda:63\t17\t1700000000000\t\t" +
		"Pemerintah Kabupaten Hulu Sungai Selatan\t5\t63.06\tHulu Sungai Selatan\t63"
	got := EncodeEntry(e)
	if got != golden {
		t.Fatalf("stored entry\n got %q\nwant %q", got, golden)
	}
	back, err := DecodeEntry(got)
	if err != nil {
		t.Fatal(err)
	}
	want := e
	want.Name = "Pemerintah Kabupaten Hulu Sungai Selatan" // separators are cleaned out of free text
	if !reflect.DeepEqual(back, want) {
		t.Fatalf("round trip\n got %+v\nwant %+v", back, want)
	}
	// Synthetic data says so, and reads back so.
	syn := e
	syn.Synthetic, syn.Name = true, want.Name
	if f := strings.Split(EncodeEntry(syn), "\t"); f[fieldSynthetic] != "1" {
		t.Fatalf("synthetic entry fields %q", f)
	}
	if back, err := DecodeEntry(EncodeEntry(syn)); err != nil || !back.Synthetic {
		t.Fatalf("synthetic round trip: %+v, %v", back, err)
	}
	// A band-only entry has neither score nor square.
	bandOnly := board.Entry{Revision: 1, Band: "C", Basis: board.BasisReportedBand, Seq: 1}
	if f := strings.Split(EncodeEntry(bandOnly), "\t"); f[fieldScore] != "" || f[fieldSumSq] != "" {
		t.Fatalf("band-only fields %q", f)
	}
	if back, err := DecodeEntry(EncodeEntry(bandOnly)); err != nil || back.Scored || back.Boards != nil {
		t.Fatalf("band-only round trip %+v, %v", back, err)
	}
	if _, err := DecodeEntry("1\t2"); err == nil {
		t.Fatal("short entry decoded")
	}
	if _, err := DecodeEntry(strings.Replace(golden, "\t17\t", "\tx\t", 1)); err == nil {
		t.Fatal("malformed sequence decoded")
	}
}

func TestEnumNumbersOfTheStoredForm(t *testing.T) {
	// The scripts and the stored hashes hold these numbers.
	for _, c := range []struct {
		got, want int32
	}{
		{int32(board.BasisComputed), 1}, {int32(board.BasisReportedTotal), 2}, {int32(board.BasisReportedBand), 3},
		{int32(board.ZoneGreen), 1}, {int32(board.ZoneYellow), 2}, {int32(board.ZoneRed), 3},
		{int32(board.ScopeNational), 1}, {int32(board.ScopeProvince), 2},
	} {
		if c.got != c.want {
			t.Errorf("enum value %d, stored as %d", c.got, c.want)
		}
	}
}

func TestGroupAndBandCodec(t *testing.T) {
	g := board.Group{Code: "pemda", Name: "Pemerintah Daerah", Scopes: []board.Scope{board.ScopeNational, board.ScopeProvince}}
	if EncodeGroup(g) != "Pemerintah Daerah\t1,2" {
		t.Fatalf("stored group %q", EncodeGroup(g))
	}
	back, err := DecodeGroup("pemda", EncodeGroup(g))
	if err != nil || !reflect.DeepEqual(back, g) || !board.ScopeAllowed(back.Scopes, "00") || !board.ScopeAllowed(back.Scopes, "63") {
		t.Fatalf("group = %+v, %v", back, err)
	}
	if board.ScopeAllowed([]board.Scope{board.ScopeNational}, "63") {
		t.Fatal("national-only group allowed a province scope")
	}
	if _, err := DecodeGroup("pemda", "x\t1,y"); err == nil {
		t.Fatal("malformed scope decoded")
	}
	b := board.Band{Code: "A", Label: "Kualitas Tertinggi", Zone: board.ZoneGreen, Order: 1}
	if EncodeBand(b) != "Kualitas Tertinggi\t1\t1" {
		t.Fatalf("stored band %q", EncodeBand(b))
	}
	bb, err := DecodeBand("A", EncodeBand(b))
	if err != nil || bb != b {
		t.Fatalf("band = %+v, %v", bb, err)
	}
	// Written before bands had an order: read without one.
	if old, err := DecodeBand("A", "Kualitas Tertinggi\t1"); err != nil || old != (board.Band{Code: "A", Label: "Kualitas Tertinggi", Zone: board.ZoneGreen}) {
		t.Fatalf("band of the earlier layout = %+v, %v", old, err)
	}
	if _, err := DecodeBand("A", "label\tgreen"); err == nil {
		t.Fatal("malformed zone decoded")
	}
}

// No key, enum number, answer or entry position is spelled in the Lua
// sources: each is a placeholder rendered from a Go constant, and every
// placeholder names one.
func TestScriptsRenderedFromConstants(t *testing.T) {
	src, err := os.ReadFile("scripts.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []*regexp.Regexp{
		regexp.MustCompile(`'rk:`), regexp.MustCompile(`f\[\d+\]`), regexp.MustCompile(`basis == '`),
		regexp.MustCompile(`'(OK|DUP|STALE|NOLAYOUT|BUSY|NOROUND|LOSTMARK|P|F)'`),
	} {
		if m := bad.Find(src); m != nil {
			t.Errorf("scripts.go spells %q instead of a placeholder", m)
		}
	}
	// render panics on a placeholder that names no constant, so building
	// the scripts at all proves each one resolves; check the mechanics.
	if got := render("return {{{OK}}, {{#fScore}}, {{markKey}}}"); got != "return {'OK', 2, 'rk:rebuild'}" {
		t.Fatalf("render = %q", got)
	}
	if strings.Contains(render(luaCommon), "{{") {
		t.Fatal("unrendered placeholder")
	}
}

func TestReplyDecodeErrors(t *testing.T) {
	if _, err := decodeStanding([]any{"OK", []any{}, "1\t2"}, "s", 2024); err == nil {
		t.Fatal("malformed entry in a standing reply decoded")
	}
	if _, err := decodeStats([]any{"OK", []any{}, "", []any{"n", "x"}}, "s", 2024, "pemda"); err == nil {
		t.Fatal("malformed population decoded")
	}
	if _, _, err := decodeBoards([]any{"OK", []any{}, []any{}, []any{[]any{"pemda:00", "many", "0"}}}, "s", 2024); err == nil {
		t.Fatal("malformed board count decoded")
	}
	p, err := decodePage([]any{"OK", []any{"gen", "1", "precision", "2"}, "", int64(0), "0", []any{}, int64(0), []any{}}, "s", 2024, "pemda")
	if err != nil || p.Round.Precision != 2 || p.Round.ID != "s-2024" {
		t.Fatalf("page = %+v, %v", p, err)
	}
}
