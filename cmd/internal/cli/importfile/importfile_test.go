package importfile

import (
	"errors"
	"strings"
	"testing"

	registryv1 "github.com/predikat-id/predikat/pkg/gen/predikat/registry/v1"
)

func TestParseAssessmentsDecimalComma(t *testing.T) {
	const file = `institution_id,total,band,source_title,source_url,source_date,notes
pemkab-hss,"96,52",,Kalsel Raih Prestasi,https://kalselhits.com/x,2024-12-12,top among local governments
polres-hss,96.64,,,,,
pemko-banjarmasin,,bb,,,,band only
`
	rows, err := ParseAssessments("ombudsman-2024.csv", strings.NewReader(file), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 {
		t.Fatalf("%d rows", len(rows))
	}
	if got := rows[0].Input.GetReportedTotal(); got != "96.52" {
		t.Errorf("total = %q, want 96.52 (normalized from the decimal comma)", got)
	}
	if rows[0].Line != 2 || rows[2].Line != 4 {
		t.Errorf("lines = %d, %d", rows[0].Line, rows[2].Line)
	}
	if s := rows[0].Input.GetSource(); s.GetTitle() != "Kalsel Raih Prestasi" || s.GetPublishedDate() != "2024-12-12" || s.GetUrl() != "https://kalselhits.com/x" {
		t.Errorf("source = %v", s)
	}
	if rows[1].Input.GetSource() != nil {
		t.Errorf("empty source columns give a source: %v", rows[1].Input.GetSource())
	}
	if got := rows[2].Input.GetReportedBand(); got != "bb" {
		t.Errorf("band = %q", got)
	}
	req := rows[0].Request("ombudsman-2024")
	if req.GetRoundId() != "ombudsman-2024" || req.GetInstitutionId() != "pemkab-hss" || req.GetRequestId() == "" {
		t.Errorf("request = %v", req)
	}
}

func TestAssessmentRequestIDIsDeterministic(t *testing.T) {
	parse := func(round, body string) roundRow {
		t.Helper()
		rows, err := ParseAssessments("f.csv", strings.NewReader("institution_id,total,band,notes\n"+body), nil)
		if err != nil {
			t.Fatal(err)
		}
		return roundRow{AssessmentRow: rows[0], Round: round}
	}
	a := parse("ombudsman-2024", `pemkab-hss,"96,52",,x`)
	b := parse("ombudsman-2024", "\n# a comment\npemkab-hss, 96.52 ,,x")
	if a.id() != b.id() {
		t.Errorf("same content, different ids: %s %s", a.id(), b.id())
	}
	for name, other := range map[string]roundRow{
		"round":  parse("ombudsman-2023", `pemkab-hss,"96,52",,x`),
		"total":  parse("ombudsman-2024", `pemkab-hss,"96,53",,x`),
		"notes":  parse("ombudsman-2024", `pemkab-hss,"96,52",,y`),
		"entity": parse("ombudsman-2024", `polres-hss,"96,52",,x`),
	} {
		if other.id() == a.id() {
			t.Errorf("a different %s gives the same request id", name)
		}
	}
	if len(a.id()) > 128 || strings.ContainsAny(a.id(), " /") {
		t.Errorf("request id %q does not fit the API pattern", a.id())
	}
}

func TestParseAssessmentsErrorsNameFileLineAndField(t *testing.T) {
	cases := []struct {
		name, body, want string
	}{
		{"missing total and band", "institution_id,total,band\npemkab-hss,,\n", "r.csv:2: total: missing"},
		{"both", "institution_id,total,band\npemkab-hss,90,A\n", "r.csv:2: band: give a total or a band, not both"},
		{"bad decimal", "institution_id,total,band\npemkab-hss,1.234,\npolres-hss,\"96,5,2\",\n", `r.csv:3: total: "96,5,2" is not a decimal number`},
		{"unquoted comma", "institution_id,total,band\npemkab-hss,96,52\n", `r.csv:2: band: give a total or a band, not both; 96,52 looks like a decimal comma: quote it, "96,52"`},
		{"extra field", "institution_id,total,band\npemkab-hss,96,52,\n", "r.csv:2: 4 fields, but the header has 3 columns"},
		{"negative", "institution_id,total\npemkab-hss,-1\n", `r.csv:2: total: "-1" is negative`},
		{"missing id", "institution_id,total\n,90\n", "r.csv:2: institution: required: an institution_id or a name"},
		{"bad id", "institution_id,total\nPemkab HSS,90\n", `r.csv:2: institution_id: "Pemkab HSS" is not an institution id`},
		{"bad date", "institution_id,total,source_date\npemkab-hss,90,12/12/2024\n", `r.csv:2: source_date: "12/12/2024" is not a date`},
		{"bad url", "institution_id,total,source_url\npemkab-hss,90,kalselhits.com\n", `r.csv:2: source_url:`},
		{"bad band", "institution_id,band\npemkab-hss,A B\n", `r.csv:2: band: "A B" is not a band code`},
		{"unknown column", "institution_id,totl\n", `r.csv:1: header: unknown column "totl"`},
		{"no result column", "institution_id,notes\n", `r.csv:1: header: needs a "total" or a "band" column`},
		{"missing id column", "total\n90\n", `r.csv:1: header: needs an "institution_id" or an "institution" (name) column`},
		{"empty", "", "r.csv: empty file"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseAssessments("r.csv", strings.NewReader(c.body), nil)
			if err == nil {
				t.Fatalf("no error, want %q", c.want)
			}
			var fe *Error
			var ps Problems
			if !errors.As(err, &fe) && !errors.As(err, &ps) {
				t.Fatalf("error %T is neither an *Error nor Problems", err)
			}
			if errors.As(err, &ps) {
				err = ps[0]
			}
			if !strings.HasPrefix(err.Error(), c.want) {
				t.Errorf("error = %q\nwant prefix %q", err, c.want)
			}
		})
	}
}

func TestParseInstitutions(t *testing.T) {
	const file = `id,name,kind,region_code,parent_id,head_name,head_title,head_term_start,aliases
mpp-hss,Mal Pelayanan Publik Kabupaten Hulu Sungai Selatan,mpp,63.06,pemkab-hss,,,,MPP HSS
pemkab-hss,Pemerintah  Kabupaten Hulu Sungai Selatan,pemkab,63.06,,Syafrudin Noor,Bupati Hulu Sungai Selatan,2025-02-20,Pemkab HSS; Kabupaten HSS ;
polres-hss,Kepolisian Resor Hulu Sungai Selatan,POLICE_RESORT,63.06,polri,,,,
polri,Kepolisian Negara Republik Indonesia,INSTITUTION_KIND_AGENCY,00,,,,,Polri
`
	rows, err := ParseInstitutions("i.csv", strings.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, r := range rows {
		order = append(order, r.Request.GetInstitutionId())
	}
	// Parents first, otherwise file order.
	if got := strings.Join(order, " "); got != "pemkab-hss mpp-hss polri polres-hss" {
		t.Errorf("order = %s", got)
	}
	hss := rows[0].Request.GetInstitution()
	if hss.GetName() != "Pemerintah Kabupaten Hulu Sungai Selatan" || hss.GetKind() != registryv1.InstitutionKind_INSTITUTION_KIND_REGENCY_GOVERNMENT ||
		hss.GetRegionCode() != "63.06" || hss.GetHead().GetName() != "Syafrudin Noor" || hss.GetHead().GetTermStart() != "2025-02-20" ||
		strings.Join(hss.GetAliases(), "|") != "Pemkab HSS|Kabupaten HSS" {
		t.Errorf("pemkab-hss = %v", hss)
	}
	if rows[0].Line != 3 {
		t.Errorf("line = %d", rows[0].Line)
	}
	if k := rows[3].Request.GetInstitution().GetKind(); k != registryv1.InstitutionKind_INSTITUTION_KIND_POLICE_RESORT {
		t.Errorf("kind = %v", k)
	}
}

func TestParseInstitutionsErrors(t *testing.T) {
	const header = "id,name,kind,region_code,parent_id,head_name,head_title,head_term_start,aliases\n"
	cases := []struct{ name, body, want string }{
		{"kind", "x,X,pemda,63,,,,,\n", `i.csv:2: kind: unknown institution kind "pemda"`},
		{"region", "x,X,pemkab,63.6,,,,,\n", `i.csv:2: region_code: "63.6" is not a Kemendagri code`},
		{"name", "x,,pemkab,63.06,,,,,\n", `i.csv:2: name: required`},
		{"id", "X_1,X,pemkab,63.06,,,,,\n", `i.csv:2: id: "X_1" is not an id`},
		{"date", "x,X,pemkab,63.06,,A,B,2025-02-30,\n", `i.csv:2: head_term_start: "2025-02-30" is not a date`},
		{"head title without name", "x,X,pemkab,63.06,,,Bupati,,\n", `i.csv:2: head_name: required when head_title`},
		{"self parent", "x,X,pemkab,63.06,x,,,,\n", `i.csv:2: parent_id: an institution cannot be its own parent`},
		{"cycle", "a,A,mpp,63.06,b,,,,\nb,B,mpp,63.06,a,,,,\n", `parent_id: parents form a cycle`},
		{"duplicate", "a,A,mpp,63.06,,,,,\na,B,mpp,63.06,,,,,\n", `i.csv:3: id: "a" is already on line 2`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseInstitutions("i.csv", strings.NewReader(header+c.body))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error = %v\nwant %q", err, c.want)
			}
		})
	}
}

func TestParseServiceUnits(t *testing.T) {
	const file = `id,name,kind,region_code,parent_id,yearly_service_users
pkm-kandangan,Puskesmas Kandangan,unitlayanan,63.06,pemkab-hss,18000
loket-mpp-hss,Loket Disdukcapil MPP HSS,serviceunit,63.06,mpp-hss,
pemkab-hss,Pemerintah Kabupaten Hulu Sungai Selatan,pemkab,63.06,,0
mpp-hss,Mal Pelayanan Publik Kabupaten Hulu Sungai Selatan,mpp,63.06,pemkab-hss,
`
	rows, err := ParseInstitutions("u.csv", strings.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]*registryv1.Institution{}
	for _, r := range rows {
		got[r.Request.GetInstitutionId()] = r.Request.GetInstitution()
	}
	unit := registryv1.InstitutionKind_INSTITUTION_KIND_SERVICE_UNIT
	if in := got["pkm-kandangan"]; in.GetKind() != unit || in.GetYearlyServiceUsers() != 18000 || in.GetParentId() != "pemkab-hss" {
		t.Errorf("pkm-kandangan = %v", in)
	}
	if in := got["loket-mpp-hss"]; in.GetKind() != unit || in.GetYearlyServiceUsers() != 0 {
		t.Errorf("loket-mpp-hss = %v", in)
	}
	if in := got["pemkab-hss"]; in.GetYearlyServiceUsers() != 0 {
		t.Errorf("pemkab-hss = %v", in)
	}

	const header = "id,name,kind,region_code,parent_id,yearly_service_users\n"
	for _, c := range []struct{ name, body, want string }{
		{"unit without parent", "u,U,unitlayanan,63.06,,10\n", `u.csv:2: parent_id: required for a service unit`},
		{"not a number", "u,U,unitlayanan,63.06,p,banyak\n", `u.csv:2: yearly_service_users: "banyak" is not a whole number`},
		{"negative", "u,U,unitlayanan,63.06,p,-5\n", `u.csv:2: yearly_service_users: "-5"`},
		{"too many", "u,U,unitlayanan,63.06,p,1000000001\n", `u.csv:2: yearly_service_users: "1000000001"`},
		{"on a regency", "k,K,pemkab,63.06,,500\n", `u.csv:2: yearly_service_users: only for service units; a pemkab has none`},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseInstitutions("u.csv", strings.NewReader(header+c.body))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error = %v\nwant %q", err, c.want)
			}
		})
	}
}

func TestParseKindServiceUnit(t *testing.T) {
	for _, s := range []string{"unitlayanan", "Unit-Layanan", "unit layanan", "serviceunit", "SERVICE_UNIT", "service-unit", "INSTITUTION_KIND_SERVICE_UNIT"} {
		if k, err := ParseKind(s); err != nil || k != registryv1.InstitutionKind_INSTITUTION_KIND_SERVICE_UNIT {
			t.Errorf("ParseKind(%q) = %v, %v", s, k, err)
		}
	}
	if !strings.Contains(KindTokens, "serviceunit (unitlayanan)") {
		t.Errorf("KindTokens = %s", KindTokens)
	}
}

func TestParseKinds(t *testing.T) {
	ks, err := ParseKinds("pemkab, pemko,kantah,LAND_OFFICE,public-service-mall")
	if err != nil {
		t.Fatal(err)
	}
	want := []registryv1.InstitutionKind{
		registryv1.InstitutionKind_INSTITUTION_KIND_REGENCY_GOVERNMENT, registryv1.InstitutionKind_INSTITUTION_KIND_CITY_GOVERNMENT,
		registryv1.InstitutionKind_INSTITUTION_KIND_LAND_OFFICE, registryv1.InstitutionKind_INSTITUTION_KIND_LAND_OFFICE,
		registryv1.InstitutionKind_INSTITUTION_KIND_PUBLIC_SERVICE_MALL,
	}
	if len(ks) != len(want) {
		t.Fatalf("kinds = %v", ks)
	}
	for i := range want {
		if ks[i] != want[i] {
			t.Errorf("kind %d = %v, want %v", i, ks[i], want[i])
		}
	}
	if _, err := ParseKinds("pemkab,unspecified"); err == nil {
		t.Error("unspecified accepted")
	}
}

// roundRow pairs a parsed row with the round it is imported into.
type roundRow struct {
	AssessmentRow
	Round string
}

func (r roundRow) id() string { return r.RequestID(r.Round) }

func TestSyntheticColumn(t *testing.T) {
	rows, err := ParseAssessments("s.csv", strings.NewReader("institution_id,total,synthetic\npemkab-a,\"90,00\",ya\npemkab-b,\"91,00\",\npemkab-c,\"92,00\",no\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !rows[0].Input.GetSynthetic() || rows[1].Input.GetSynthetic() || rows[2].Input.GetSynthetic() {
		t.Fatalf("synthetic flags %v %v %v", rows[0].Input.GetSynthetic(), rows[1].Input.GetSynthetic(), rows[2].Input.GetSynthetic())
	}
	if _, err := ParseAssessments("s.csv", strings.NewReader("institution_id,total,synthetic\npemkab-a,\"90,00\",maybe\n"), nil); err == nil ||
		!strings.Contains(err.Error(), "s.csv:2: synthetic") {
		t.Fatalf("a bad synthetic value: %v", err)
	}
}
