package cli

import (
	"strings"
	"testing"
)

// A line whose institution already has a record with the same figures,
// recorded by another request (RecordAssessment by hand, another file), is
// left as it is and counted apart, saying what of the line is not written;
// a line with other figures is still refused.
func TestImportAssessmentsLeavesTheSameFigures(t *testing.T) {
	e := startStack(t)
	e.ok("3 created", "institutions", "import", e.write("pemda.csv", "id,name,kind,region_code\n"+
		"pemkab-hss,Pemerintah Kabupaten Hulu Sungai Selatan,pemkab,63.06\n"+
		"polres-hss,Polres Hulu Sungai Selatan,polres,63.06\n"+
		"pemprov-kalsel,Pemerintah Provinsi Kalimantan Selatan,pemprov,63\n"))
	e.ok("ombudsman-2024", "rounds", "create", "--scheme", "ombudsman", "--year", "2024")
	// Recorded first without a source, as RecordAssessment by hand would.
	e.ok("2 recorded", "assessments", "import", e.write("first.csv", "institution_id;total\npemkab-hss;96,52\npolres-hss;96,64\n"), "--round", "ombudsman-2024")

	// Same figures, recorded otherwise.
	{
		hasil := e.write("hasil.csv", "institution;kind;region_code;total;source_title;source_url;source_date\n"+
			"Pemkab Hulu Sungai Selatan;pemkab;63;96,52;Kalsel Raih Prestasi;https://kalselprov.go.id/berita;2024-12-12\n"+
			"Polres Hulu Sungai Selatan;polres;63;96,64;Kalsel Raih Prestasi;https://kalselprov.go.id/berita;2024-12-12\n"+
			"Pemprov Kalimantan Selatan;pemprov;63;94,58;Kalsel Raih Prestasi;https://kalselprov.go.id/berita;2024-12-12\n")
		out := e.ok("1 to record, 0 already recorded, 2 already recorded with the same figures by another request (left as stored) (nothing written)",
			"assessments", "import", hasil, "--round", "ombudsman-2024", "--dry-run")
		if want := "hasil.csv:2: pemkab-hss: already recorded with these figures (revision 1, 96.52 A) by another request: left as it is (the line's source differs"; !strings.Contains(out, want) {
			t.Errorf("dry run: want %q:\n%s", want, out)
		}
		e.ok("1 recorded, 0 already recorded, 2 already recorded with the same figures by another request (left as stored) in ombudsman-2024: all 3 lines stored",
			"assessments", "import", hasil, "--round", "ombudsman-2024")
		e.ok("0 recorded, 1 already recorded, 2 already recorded with the same figures", "assessments", "import", hasil, "--round", "ombudsman-2024")
		out = e.ok("96.52", "assessments", "show", "--round", "ombudsman-2024", "--institution", "pemkab-hss")
		if strings.Contains(out, "Kalsel Raih Prestasi") {
			t.Errorf("a line left as it is changed the stored record:\n%s", out)
		}
	}

	// Other figures.
	{
		code, out := e.run("assessments", "import", e.write("changed.csv", "institution_id,total\npemkab-hss,\"90,25\"\n"), "--round", "ombudsman-2024", "--dry-run")
		if want := "changed.csv:2: pemkab-hss already has a record with other figures (revision 1, 96.52 A; the line gives 90.25 A): a changed line is a correction"; code != 1 || !strings.Contains(out, want) {
			t.Errorf("exit %d, want %q:\n%s", code, want, out)
		}
	}

}

// A file with several faulty lines lists every fault of every line in one
// pass: an unreadable total hides neither an unmatched name nor an
// out-of-scale total, and nothing is written.
func TestImportAssessmentsListsEveryFault(t *testing.T) {
	e := startStack(t)
	e.ok("2 created", "institutions", "import", e.write("pemda.csv", "id,name,kind,region_code\n"+
		"pemkab-hss,Pemerintah Kabupaten Hulu Sungai Selatan,pemkab,63.06\n"+
		"polres-hss,Polres Hulu Sungai Selatan,polres,63.06\n"))
	{
		e.ok("ombudsman-2023", "rounds", "create", "--scheme", "ombudsman", "--year", "2023")
		code, out := e.run("assessments", "import", e.write("faults.csv", "institution;kind;region_code;total;source_date\n"+
			"Pemkab Hulu Sungai Selatan;pemkab;63;abc;2024-12-12\n"+
			"Pemkab Tidak Ada;pemkab;63;80,00;2024-12-12\n"+
			"Polres Hulu Sungai Selatan;polres;63;101;2024-12-12\n"+
			"Pemkab Tidak Ada Juga;pemkab;63;xyz;12/12/2024\n"+
			"Pemkab Hulu Sungai Selatan;pemkab;63;94,58;2024-12-12;extra\n"), "--round", "ombudsman-2023")
		for _, want := range []string{"7 problems, nothing written",
			`faults.csv:2: total: "abc" is not a decimal number`,
			`faults.csv:3: institution: no registered institution is named "Pemkab Tidak Ada"`,
			"faults.csv:4: polres-hss: ",
			`faults.csv:5: total: "xyz" is not a decimal number`,
			`faults.csv:5: source_date: "12/12/2024" is not a date`,
			`faults.csv:5: institution: no registered institution is named "Pemkab Tidak Ada Juga"`,
			"faults.csv:6: 6 fields, but the header has 5 columns",
		} {
			if code != 1 || !strings.Contains(out, want) {
				t.Errorf("exit %d, want %q:\n%s", code, want, out)
			}
		}
		if _, out := e.run("assessments", "list", "--round", "ombudsman-2023"); strings.Contains(out, "hss") {
			t.Errorf("a faulty file wrote:\n%s", out)
		}
	}
}
