package certificate

import (
	"bytes"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/ledongthuc/pdf"
)

// hss is the award of the seeds: Hulu Sungai Selatan's compliance predikat,
// presented at the Rapat Koordinasi of 2025-04-17.
func hss() Certificate {
	return Certificate{
		AwardID:           "award-2024-ombudsman-hss-predikat",
		AwardTitle:        "Predikat Kepatuhan Tinggi Standar Pelayanan Publik",
		InstitutionName:   "Pemerintah Kabupaten Hulu Sungai Selatan",
		InstitutionRegion: "Kabupaten Hulu Sungai Selatan, Kalimantan Selatan",
		SchemeName:        "Penilaian Kepatuhan Penyelenggaraan Pelayanan Publik",
		Year:              2024,
		Score:             "93.64",
		BandCode:          "A",
		BandLabel:         "Kualitas Tertinggi",
		CeremonyName:      "Rapat Koordinasi Pelayanan Publik se-Kalimantan Selatan",
		CeremonyPlace:     "Gedung Mahligai Pancasila, Banjarmasin",
		CeremonyDate:      "2025-04-17",
		PresenterName:     "Hasnuryadi Sulaiman",
		PresenterTitle:    "Wakil Gubernur Kalimantan Selatan",
		VerifyHint:        "Verify with: predikat certificates verify " + Code("award-2024-ombudsman-hss-predikat"),
	}
}

// extracted is the text a PDF reader finds on the page, with every run of
// white space (including the breaks between text objects and wrapped
// lines) read as one space.
type extracted struct {
	text  string
	pages int
	// width and height of the page, in points.
	width, height float64
}

func extract(t *testing.T, doc []byte) extracted {
	t.Helper()
	r, err := pdf.NewReader(bytes.NewReader(doc), int64(len(doc)))
	if err != nil {
		t.Fatalf("the PDF does not open in a reader: %v", err)
	}
	out := extracted{pages: r.NumPage()}
	if out.pages < 1 {
		t.Fatalf("the PDF has no page")
	}
	p := r.Page(1)
	text, err := p.GetPlainText(nil)
	if err != nil {
		t.Fatalf("extract text: %v", err)
	}
	out.text = strings.Join(strings.Fields(text), " ")
	// The media box may sit on the page or be inherited from its parents.
	var box pdf.Value
	for v := p.V; !v.IsNull() && box.IsNull(); v = v.Key("Parent") {
		box = v.Key("MediaBox")
	}
	if box.Len() != 4 {
		t.Fatalf("the page has no media box")
	}
	out.width = box.Index(2).Float64() - box.Index(0).Float64()
	out.height = box.Index(3).Float64() - box.Index(1).Float64()
	return out
}

func render(t *testing.T, c Certificate) extracted {
	t.Helper()
	doc, err := Render(c)
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	return extract(t, doc)
}

func assertContains(t *testing.T, got extracted, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(got.text, w) {
			t.Errorf("the certificate's text lacks %q\ntext: %s", w, got.text)
		}
	}
}

func assertLacks(t *testing.T, got extracted, unwanted ...string) {
	t.Helper()
	for _, w := range unwanted {
		if strings.Contains(got.text, w) {
			t.Errorf("the certificate's text has %q\ntext: %s", w, got.text)
		}
	}
}

func TestRenderShowsEveryField(t *testing.T) {
	c := hss()
	doc, err := Render(c)
	if err != nil {
		t.Fatal(err)
	}
	// The page content is compressed: the text below is found by decoding
	// the PDF, as a viewer does, not by matching the file's bytes.
	if bytes.Contains(doc, []byte("Mahligai")) {
		t.Fatal("the page content is stored uncompressed")
	}
	got := extract(t, doc)
	if got.pages != 1 {
		t.Errorf("pages = %d, want 1", got.pages)
	}
	// A4 landscape: 842 x 595 points.
	if got.width < 841 || got.width > 843 || got.height < 594 || got.height > 596 {
		t.Errorf("page is %.1f x %.1f pt, want A4 landscape 841.9 x 595.3", got.width, got.height)
	}
	assertContains(t, got,
		"PIAGAM PENGHARGAAN",
		"Pemerintah Kabupaten Hulu Sungai Selatan",
		"Kabupaten Hulu Sungai Selatan, Kalimantan Selatan",
		"Predikat Kepatuhan Tinggi Standar Pelayanan Publik",
		"Penilaian Kepatuhan Penyelenggaraan Pelayanan Publik",
		"Tahun 2024",
		"93.64",
		"Kategori A (Kualitas Tertinggi)",
		"Rapat Koordinasi Pelayanan Publik se-Kalimantan Selatan",
		"Gedung Mahligai Pancasila, Banjarmasin",
		"17 April 2025",
		"Wakil Gubernur Kalimantan Selatan",
		"Hasnuryadi Sulaiman",
		Code(c.AwardID),
		"award-2024-ombudsman-hss-predikat",
		"Verify with: predikat certificates verify "+Code(c.AwardID),
	)
	assertLacks(t, got, "2025-04-17", "SINTETIS", "SYNTHETIC", "<nil>")
}

func TestRenderEmptyOptionalFields(t *testing.T) {
	got := render(t, Certificate{
		AwardTitle:      "Predikat Kepatuhan Tinggi Standar Pelayanan Publik",
		InstitutionName: "Kantor Pertanahan Kabupaten Kotabaru",
	})
	assertContains(t, got,
		"PIAGAM PENGHARGAAN",
		"Kantor Pertanahan Kabupaten Kotabaru",
		"Predikat Kepatuhan Tinggi Standar Pelayanan Publik",
	)
	// No label is printed without its value.
	assertLacks(t, got, "<nil>", "Nilai", "Kategori", "Tahun", "Diserahkan",
		"Kode verifikasi", "ID penghargaan", "PKT-", "SINTETIS")
}

func TestRenderPartialFields(t *testing.T) {
	tests := []struct {
		name   string
		edit   func(*Certificate)
		want   []string
		unwant []string
	}{
		{
			name: "no ceremony name",
			edit: func(c *Certificate) { c.CeremonyName = "" },
			want: []string{"Diserahkan di Gedung Mahligai Pancasila, Banjarmasin, 17 April 2025"},
		},
		{
			name: "date only",
			edit: func(c *Certificate) { c.CeremonyName, c.CeremonyPlace = "", "" },
			want: []string{"Diserahkan pada 17 April 2025"},
		},
		{
			name:   "ceremony name only",
			edit:   func(c *Certificate) { c.CeremonyPlace, c.CeremonyDate = "", "" },
			want:   []string{"Diserahkan pada Rapat Koordinasi Pelayanan Publik se-Kalimantan Selatan"},
			unwant: []string{"April", "Banjarmasin"},
		},
		{
			name:   "no presenter",
			edit:   func(c *Certificate) { c.PresenterName, c.PresenterTitle = "", "" },
			unwant: []string{"Hasnuryadi", "Wakil Gubernur"},
		},
		{
			name:   "band label only, no score",
			edit:   func(c *Certificate) { c.Score, c.BandCode = "", "" },
			want:   []string{"Kategori Kualitas Tertinggi"},
			unwant: []string{"Nilai", "()"},
		},
		{
			name:   "score only",
			edit:   func(c *Certificate) { c.BandCode, c.BandLabel = "", "" },
			want:   []string{"Nilai 93.64"},
			unwant: []string{"Kategori"},
		},
		{
			name:   "no year",
			edit:   func(c *Certificate) { c.Year = 0 },
			want:   []string{"Penilaian Kepatuhan Penyelenggaraan Pelayanan Publik"},
			unwant: []string{"Tahun"},
		},
		{
			name:   "no hint",
			edit:   func(c *Certificate) { c.VerifyHint = "" },
			want:   []string{Code("award-2024-ombudsman-hss-predikat")},
			unwant: []string{"Verify with"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := hss()
			tt.edit(&c)
			got := render(t, c)
			assertContains(t, got, tt.want...)
			assertLacks(t, got, tt.unwant...)
			assertLacks(t, got, "<nil>", "()")
		})
	}
}

func TestRenderSyntheticBanner(t *testing.T) {
	c := hss()
	c.Synthetic = true
	got := render(t, c)
	assertContains(t, got, SyntheticBanner, "DATA SINTETIS / SYNTHETIC — NOT AN AWARD", c.InstitutionName)
}

func TestRenderIsDeterministic(t *testing.T) {
	for _, synthetic := range []bool{false, true} {
		c := hss()
		c.Synthetic = synthetic
		first, err := Render(c)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 5; i++ {
			again, err := Render(c)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(first, again) {
				t.Fatalf("synthetic=%v: render %d differs from the first", synthetic, i+2)
			}
		}
		// The bytes depend on the data, not only on the layout.
		c.Score = "93.65"
		other, err := Render(c)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Equal(first, other) {
			t.Fatal("a different score rendered the same bytes")
		}
	}
}

func TestRenderConcurrently(t *testing.T) {
	want, err := Render(hss())
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got, err := Render(hss())
			if err == nil && !bytes.Equal(got, want) {
				err = errors.New("a concurrent render differs")
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

func TestRenderTextOutsideCP1252(t *testing.T) {
	c := hss()
	// é and the em dash are in cp1252 and survive; ễ, Ж, the CJK and the
	// emoji are not and become "?"; a decomposed é (e + U+0301) is composed
	// first and survives too.
	c.InstitutionName = "Kantor Pertanahan Kotabaru — Café Nguyễn Ж 中 🏛"
	c.PresenterName = "Jose\u0301 Hasnuryadi"
	c.CeremonyPlace = "Gedung\tMahligai\nPancasila"
	got := render(t, c)
	assertContains(t, got,
		"Kantor Pertanahan Kotabaru — Café Nguy?n ? ? ?",
		"José Hasnuryadi",
		"Gedung Mahligai Pancasila",
	)
}

func TestRenderLongTextWraps(t *testing.T) {
	c := hss()
	c.AwardTitle = "Penghargaan Predikat Kepatuhan Tinggi Standar Pelayanan Publik Zona Hijau dengan Kualitas Tertinggi bagi Penyelenggara Pelayanan Publik di Lingkungan Pemerintah Daerah"
	c.InstitutionName = "Kantor Pertanahan Kabupaten Hulu Sungai Selatan Kantor Wilayah Badan Pertanahan Nasional Provinsi Kalimantan Selatan"
	got := render(t, c)
	// Wrapped lines come back as separate text objects, read as one
	// text with spaces between them.
	assertContains(t, got, c.AwardTitle, c.InstitutionName)
}

func TestRenderRefuses(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Certificate)
		want string
	}{
		{"no institution", func(c *Certificate) { c.InstitutionName = " \t" }, "no institution name"},
		{"no award title", func(c *Certificate) { c.AwardTitle = "" }, "no award title"},
		{"bad date", func(c *Certificate) { c.CeremonyDate = "17/4/2025" }, "YYYY-MM-DD"},
		{"impossible date", func(c *Certificate) { c.CeremonyDate = "2025-02-30" }, "YYYY-MM-DD"},
		{"negative year", func(c *Certificate) { c.Year = -1 }, "year"},
		{"malformed code", func(c *Certificate) { c.VerificationCode = "PKT-12" }, "malformed verification code"},
		{"another award's code", func(c *Certificate) { c.VerificationCode = Code("another") }, "is not the code of award"},
		{"runs off the page", func(c *Certificate) { c.AwardTitle = strings.Repeat("Predikat Kepatuhan Tinggi ", 60) }, "does not fit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := hss()
			tt.edit(&c)
			_, err := Render(c)
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Render error = %v, want ErrInvalid mentioning %q", err, tt.want)
			}
		})
	}
}

func TestRenderCodeGivenOrDerived(t *testing.T) {
	c := hss()
	// As a person might type the award's own code: accepted and printed in
	// the canonical form.
	c.VerificationCode = strings.ToLower(strings.ReplaceAll(Code(c.AwardID), "-", ""))
	assertContains(t, render(t, c), Code(c.AwardID))

	// A code without an award id is printed as given (normalised).
	c.AwardID = ""
	c.VerificationCode = Code("award-2024-ombudsman-hss-predikat")
	got := render(t, c)
	assertContains(t, got, Code("award-2024-ombudsman-hss-predikat"))
	assertLacks(t, got, "ID penghargaan")
}

func TestLongDate(t *testing.T) {
	tests := []struct{ in, want string }{
		{"2025-04-17", "17 April 2025"},
		{"2024-12-11", "11 Desember 2024"},
		{"2024-05-21", "21 Mei 2024"},
		{"2025-01-01", "1 Januari 2025"},
		{"2024-02-29", "29 Februari 2024"},
		{"2024-03-09", "9 Maret 2024"},
		{"2024-06-30", "30 Juni 2024"},
		{"2024-07-04", "4 Juli 2024"},
		{"2024-08-17", "17 Agustus 2024"},
		{"2024-09-02", "2 September 2024"},
		{"2024-10-28", "28 Oktober 2024"},
		{"2024-11-10", "10 November 2024"},
	}
	for _, tt := range tests {
		got, err := LongDate(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("LongDate(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "2025-4-17", "17-04-2025", "2023-02-29", "2025-04-17T00:00:00Z"} {
		if got, err := LongDate(bad); err == nil {
			t.Errorf("LongDate(%q) = %q, want an error", bad, got)
		}
	}
}
