package server

import (
	"testing"

	assessmentv1 "github.com/predikat-id/predikat/pkg/gen/predikat/assessment/v1"
	rankingv1 "github.com/predikat-id/predikat/pkg/gen/predikat/ranking/v1"
	"github.com/predikat-id/predikat/services/ranking/internal/board"
)

// The handlers convert the board package's enums by cast: each must carry
// the contract's number.
func TestEnumsCarryTheContractsNumbers(t *testing.T) {
	for _, c := range []struct {
		name      string
		got, want int32
	}{
		{"zone green", int32(zone(board.ZoneGreen)), int32(assessmentv1.BandZone_BAND_ZONE_GREEN)},
		{"zone yellow", int32(zone(board.ZoneYellow)), int32(assessmentv1.BandZone_BAND_ZONE_YELLOW)},
		{"zone red", int32(zone(board.ZoneRed)), int32(assessmentv1.BandZone_BAND_ZONE_RED)},
		{"zone unspecified", int32(zone(board.ZoneUnspecified)), int32(assessmentv1.BandZone_BAND_ZONE_UNSPECIFIED)},
		{"basis computed", int32(basis(board.BasisComputed)), int32(assessmentv1.AssessmentBasis_ASSESSMENT_BASIS_COMPUTED)},
		{"basis reported total", int32(basis(board.BasisReportedTotal)), int32(assessmentv1.AssessmentBasis_ASSESSMENT_BASIS_REPORTED_TOTAL)},
		{"basis reported band", int32(basis(board.BasisReportedBand)), int32(assessmentv1.AssessmentBasis_ASSESSMENT_BASIS_REPORTED_BAND)},
		{"basis derived", int32(basis(board.BasisDerived)), int32(assessmentv1.AssessmentBasis_ASSESSMENT_BASIS_DERIVED)},
		{"basis survey", int32(basis(board.BasisSurvey)), int32(assessmentv1.AssessmentBasis_ASSESSMENT_BASIS_SURVEY)},
		{"scope national", int32(board.ScopeNational), int32(assessmentv1.ScopeKind_SCOPE_KIND_NATIONAL)},
		{"scope province", int32(board.ScopeProvince), int32(assessmentv1.ScopeKind_SCOPE_KIND_PROVINCE)},
		{"movement up", int32(board.MovementUp), int32(rankingv1.Movement_MOVEMENT_UP)},
		{"movement down", int32(board.MovementDown), int32(rankingv1.Movement_MOVEMENT_DOWN)},
		{"movement same", int32(board.MovementSame), int32(rankingv1.Movement_MOVEMENT_SAME)},
		{"movement new", int32(board.MovementNew), int32(rankingv1.Movement_MOVEMENT_NEW)},
	} {
		if c.got != c.want {
			t.Errorf("%s: board has %d, the contract %d", c.name, c.got, c.want)
		}
	}
	if len(assessmentv1.BandZone_name) != 4 || len(assessmentv1.AssessmentBasis_name) != 6 || len(rankingv1.Movement_name) != 5 || len(assessmentv1.ScopeKind_name) != 3 {
		t.Error("the contract grew an enum value the board package does not know")
	}
}
