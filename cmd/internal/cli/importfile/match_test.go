package importfile

import (
	"strings"
	"testing"

	registryv1 "github.com/predikat-id/predikat/pkg/gen/predikat/registry/v1"
)

const (
	pemkab = registryv1.InstitutionKind_INSTITUTION_KIND_REGENCY_GOVERNMENT
	polres = registryv1.InstitutionKind_INSTITUTION_KIND_POLICE_RESORT
)

// A spreadsheet saved in the Indonesian locale: semicolons, decimal commas
// unquoted, institutions by name, per-dimension scores.
func TestSemicolonTableWithNamesAndDimensions(t *testing.T) {
	body := "institution;kind;region_code;total;kepatuhan;kualitas\n" +
		"Pemkab Hulu Sungai Selatan;pemkab;63;96,52;;\n" +
		"Polres Hulu Sungai Selatan;polres;63.06;;90,10;88,5\n"
	if Separator([]byte(body)) != ';' || Separator([]byte("a,b;c,d\n")) != ',' || Separator([]byte("# x;y;z\n\"a;b\",c\n")) != ',' {
		t.Fatal("separator")
	}
	rows, err := ParseAssessments("t.csv", strings.NewReader(body), []string{"kepatuhan", "kualitas"})
	if err != nil {
		t.Fatal(err)
	}
	if rows[0].Name != "Pemkab Hulu Sungai Selatan" || rows[0].Kind != pemkab || rows[0].Input.GetReportedTotal() != "96.52" {
		t.Errorf("line 2 = %+v", rows[0])
	}
	if ds := rows[1].Input.GetDimensionScores().GetScores(); len(ds) != 2 || ds[0].GetScore() != "90.10" || ds[1].GetScore() != "88.5" {
		t.Errorf("line 3 dimensions = %v", ds)
	}
	// A line with some dimension scores but not all names the one missing.
	_, err = ParseAssessments("t.csv", strings.NewReader("institution_id;kepatuhan;kualitas\npemkab-hss;90;\n"), []string{"kepatuhan", "kualitas"})
	if err == nil || !strings.Contains(err.Error(), "t.csv:2: kualitas: missing") {
		t.Errorf("partial dimensions: %v", err)
	}
}

func TestMatcher(t *testing.T) {
	m := NewMatcher([]*registryv1.Institution{
		{Id: "pemkab-hss", Name: "Pemerintah Kabupaten Hulu Sungai Selatan", Kind: pemkab, RegionCode: "63.06", Aliases: []string{"Pemkab HSS"}},
		{Id: "polres-hss", Name: "Polres Hulu Sungai Selatan", Kind: polres, RegionCode: "63.06"},
		{Id: "pemkab-banjar", Name: "Pemerintah Kabupaten Banjar", Kind: pemkab, RegionCode: "63.03"},
		{Id: "pemkab-banjar-x", Name: "Pemerintah Kabupaten Banjar", Kind: pemkab, RegionCode: "32.99"},
		{Id: "kantah-lama", Name: "Kantor Pertanahan Lama", Kind: registryv1.InstitutionKind_INSTITUTION_KIND_LAND_OFFICE, RegionCode: "63.01",
			Status: registryv1.InstitutionStatus_INSTITUTION_STATUS_RETIRED},
	})
	for _, c := range []struct {
		row    AssessmentRow
		id     string
		errHas string
	}{
		{AssessmentRow{Name: "Kab. Hulu Sungai Selatan, Pemerintah"}, "", "no registered institution"},
		{AssessmentRow{Name: "pemkab  hulu-sungai selatan"}, "pemkab-hss", ""},
		{AssessmentRow{Name: "PEMKAB HSS"}, "pemkab-hss", ""},
		{AssessmentRow{Name: "Pemkab Banjar"}, "", "matches 2 institutions: pemkab-banjar (pemkab, 63.03), pemkab-banjar-x (pemkab, 32.99)"},
		{AssessmentRow{Name: "Pemkab Banjar", RegionCode: "63"}, "pemkab-banjar", ""},
		{AssessmentRow{Name: "Polres Hulu Sungai Selatan", Kind: pemkab}, "", "(kind pemkab)"},
		{AssessmentRow{InstitutionID: "kantah-lama"}, "", "retired"},
		{AssessmentRow{InstitutionID: "nope"}, "", `"nope" is not registered`},
	} {
		row := c.row
		_, err := m.Match(&row)
		switch {
		case c.errHas != "" && (err == nil || !strings.Contains(err.Error(), c.errHas)):
			t.Errorf("%+v: %v, want an error with %q", c.row, err, c.errHas)
		case c.errHas == "" && (err != nil || row.InstitutionID != c.id):
			t.Errorf("%+v: %q, %v; want %s", c.row, row.InstitutionID, err, c.id)
		}
	}
}
