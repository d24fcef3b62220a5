// Package convert translates the service's plain records (package model)
// to and from their protobuf forms. The gRPC handlers and the storage
// adapter share it, so a record reads the same on the wire and in the stream.
package convert

import (
	"time"

	assessmentv1 "github.com/predikat-id/predikat/pkg/gen/predikat/assessment/v1"
	registryv1 "github.com/predikat-id/predikat/pkg/gen/predikat/registry/v1"
	"github.com/predikat-id/predikat/services/assessment/internal/model"
	"google.golang.org/protobuf/types/known/timestamppb"
)

func ts(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

func fromTS(t *timestamppb.Timestamp) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.AsTime()
}

// RoundToProto translates a round.
func RoundToProto(r model.Round) *assessmentv1.Round {
	return &assessmentv1.Round{
		Id: r.ID, SchemeId: r.SchemeID, SchemeVersion: r.SchemeVersion, Year: r.Year, Title: r.Title,
		CollectionStart: r.CollectionStart, CollectionEnd: r.CollectionEnd, State: assessmentv1.RoundState(r.State),
		AssessmentCount: r.AssessmentCount, RevisionCount: r.RevisionCount, CorrectionCount: r.CorrectionCount,
		AwardCount: r.AwardCount, SchemeProvisional: r.SchemeProvisional, Notes: r.Notes, CreatedBy: r.CreatedBy,
		CreateTime: ts(r.CreateTime), CloseTime: ts(r.CloseTime), PublishTime: ts(r.PublishTime),
		PublishForceReason: r.PublishForceReason, ClosedBy: r.ClosedBy, ReopenedBy: r.ReopenedBy,
		ReopenTime: ts(r.ReopenTime), ReopenReason: r.ReopenReason, PublishedBy: r.PublishedBy,
	}
}

// RoundFromProto translates a round read at a storage revision.
func RoundFromProto(r *assessmentv1.Round, revision uint64) model.Round {
	return model.Round{
		ID: r.GetId(), SchemeID: r.GetSchemeId(), SchemeVersion: r.GetSchemeVersion(), Year: r.GetYear(), Title: r.GetTitle(),
		CollectionStart: r.GetCollectionStart(), CollectionEnd: r.GetCollectionEnd(), State: model.RoundState(r.GetState()),
		AssessmentCount: r.GetAssessmentCount(), RevisionCount: r.GetRevisionCount(), CorrectionCount: r.GetCorrectionCount(),
		AwardCount: r.GetAwardCount(), SchemeProvisional: r.GetSchemeProvisional(), Notes: r.GetNotes(), CreatedBy: r.GetCreatedBy(),
		CreateTime: fromTS(r.GetCreateTime()), CloseTime: fromTS(r.GetCloseTime()), PublishTime: fromTS(r.GetPublishTime()),
		PublishForceReason: r.GetPublishForceReason(), ClosedBy: r.GetClosedBy(), ReopenedBy: r.GetReopenedBy(),
		ReopenTime: fromTS(r.GetReopenTime()), ReopenReason: r.GetReopenReason(), PublishedBy: r.GetPublishedBy(),
		Revision: revision,
	}
}

// HeadToProto translates a head; nil stays nil.
func HeadToProto(h *model.Head) *registryv1.Head {
	if h == nil {
		return nil
	}
	return &registryv1.Head{Name: h.Name, Title: h.Title, TermStart: h.TermStart, TermEnd: h.TermEnd}
}

// HeadFromProto translates a head; nil stays nil.
func HeadFromProto(h *registryv1.Head) *model.Head {
	if h == nil {
		return nil
	}
	return &model.Head{Name: h.GetName(), Title: h.GetTitle(), TermStart: h.GetTermStart(), TermEnd: h.GetTermEnd()}
}

// SnapshotToProto translates an institution snapshot.
func SnapshotToProto(s model.InstitutionSnapshot) *assessmentv1.InstitutionSnapshot {
	return &assessmentv1.InstitutionSnapshot{
		Id: s.ID, Name: s.Name, Kind: registryv1.InstitutionKind(s.Kind), RegionCode: s.RegionCode, RegionName: s.RegionName,
		ProvinceCode: s.ProvinceCode, ProvinceName: s.ProvinceName, ParentId: s.ParentID, Head: HeadToProto(s.Head),
		RegistryRevision: s.RegistryRevision,
	}
}

// SnapshotFromProto translates an institution snapshot.
func SnapshotFromProto(s *assessmentv1.InstitutionSnapshot) model.InstitutionSnapshot {
	return model.InstitutionSnapshot{
		ID: s.GetId(), Name: s.GetName(), Kind: model.Kind(s.GetKind()), RegionCode: s.GetRegionCode(), RegionName: s.GetRegionName(),
		ProvinceCode: s.GetProvinceCode(), ProvinceName: s.GetProvinceName(), ParentID: s.GetParentId(), Head: HeadFromProto(s.GetHead()),
		RegistryRevision: s.GetRegistryRevision(),
	}
}

// SourceToProto translates a source; nil stays nil.
func SourceToProto(s *model.Source) *assessmentv1.Source {
	if s == nil {
		return nil
	}
	return &assessmentv1.Source{Title: s.Title, Publisher: s.Publisher, Url: s.URL, PublishedDate: s.PublishedDate, Note: s.Note}
}

// SourceFromProto translates a source; nil stays nil.
func SourceFromProto(s *assessmentv1.Source) *model.Source {
	if s == nil {
		return nil
	}
	return &model.Source{Title: s.GetTitle(), Publisher: s.GetPublisher(), URL: s.GetUrl(), PublishedDate: s.GetPublishedDate(), Note: s.GetNote()}
}

func scoresToProto(ds []model.DimensionScore) []*assessmentv1.DimensionScore {
	if ds == nil {
		return nil
	}
	out := make([]*assessmentv1.DimensionScore, len(ds))
	for i, d := range ds {
		out[i] = &assessmentv1.DimensionScore{Code: d.Code, Score: d.Score}
	}
	return out
}

func scoresFromProto(ds []*assessmentv1.DimensionScore) []model.DimensionScore {
	if ds == nil {
		return nil
	}
	out := make([]model.DimensionScore, len(ds))
	for i, d := range ds {
		out[i] = model.DimensionScore{Code: d.GetCode(), Score: d.GetScore()}
	}
	return out
}

func adjustmentsToProto(as []model.Adjustment) []*assessmentv1.Adjustment {
	if as == nil {
		return nil
	}
	out := make([]*assessmentv1.Adjustment, len(as))
	for i, a := range as {
		out[i] = &assessmentv1.Adjustment{Code: a.Code, Amount: a.Amount, Reason: a.Reason}
	}
	return out
}

func adjustmentsFromProto(as []*assessmentv1.Adjustment) []model.Adjustment {
	if as == nil {
		return nil
	}
	out := make([]model.Adjustment, len(as))
	for i, a := range as {
		out[i] = model.Adjustment{Code: a.GetCode(), Amount: a.GetAmount(), Reason: a.GetReason()}
	}
	return out
}

// InputToProto translates an assessment input.
func InputToProto(in model.Input) *assessmentv1.AssessmentInput {
	p := &assessmentv1.AssessmentInput{
		Adjustments: adjustmentsToProto(in.Adjustments), Respondents: in.Respondents, Notes: in.Notes, Source: SourceToProto(in.Source),
	}
	switch {
	case in.HasScores:
		p.Result = &assessmentv1.AssessmentInput_DimensionScores{DimensionScores: &assessmentv1.DimensionScores{Scores: scoresToProto(in.DimensionScores)}}
	case in.ReportedTotal != "":
		p.Result = &assessmentv1.AssessmentInput_ReportedTotal{ReportedTotal: in.ReportedTotal}
	case in.ReportedBand != "":
		p.Result = &assessmentv1.AssessmentInput_ReportedBand{ReportedBand: in.ReportedBand}
	}
	return p
}

// InputFromProto translates an assessment input.
func InputFromProto(p *assessmentv1.AssessmentInput) model.Input {
	in := model.Input{
		Adjustments: adjustmentsFromProto(p.GetAdjustments()), Respondents: p.GetRespondents(), Notes: p.GetNotes(),
		Source: SourceFromProto(p.GetSource()), ReportedTotal: p.GetReportedTotal(), ReportedBand: p.GetReportedBand(),
		Synthetic: p.GetSynthetic(), ImprovementNotes: notesFromProto(p.GetImprovementNotes()), FollowUps: followUpsFromProto(p.GetFollowUps()),
	}
	if ds, ok := p.GetResult().(*assessmentv1.AssessmentInput_DimensionScores); ok {
		in.HasScores, in.DimensionScores = true, scoresFromProto(ds.DimensionScores.GetScores())
	}
	return in
}

// FillResult writes a computed result into an assessment.
func FillResult(a *assessmentv1.Assessment, r model.Result) {
	a.Basis, a.DimensionScores, a.WeightedTotal = assessmentv1.AssessmentBasis(r.Basis), scoresToProto(r.DimensionScores), r.WeightedTotal
	a.Adjustments, a.Total = adjustmentsToProto(r.Adjustments), r.Total
	a.BandCode, a.BandLabel, a.BandZone = r.BandCode, r.BandLabel, assessmentv1.BandZone(r.BandZone)
}

// ResultFromProto reads the computed result of an assessment.
func ResultFromProto(a *assessmentv1.Assessment) model.Result {
	return model.Result{
		Basis: model.Basis(a.GetBasis()), DimensionScores: scoresFromProto(a.GetDimensionScores()), WeightedTotal: a.GetWeightedTotal(),
		Adjustments: adjustmentsFromProto(a.GetAdjustments()), Total: a.GetTotal(),
		BandCode: a.GetBandCode(), BandLabel: a.GetBandLabel(), BandZone: model.BandZone(a.GetBandZone()),
	}
}

// AssessmentToProto translates an assessment; nil stays nil.
func AssessmentToProto(a *model.Assessment) *assessmentv1.Assessment {
	if a == nil {
		return nil
	}
	p := &assessmentv1.Assessment{
		RoundId: a.RoundID, SchemeId: a.SchemeID, SchemeVersion: a.SchemeVersion, Year: a.Year, InstitutionId: a.InstitutionID,
		Institution: SnapshotToProto(a.Institution), Respondents: a.Respondents, Notes: a.Notes, Source: SourceToProto(a.Source),
		Revision: a.Revision, Reason: a.Reason, AfterPublication: a.AfterPublication, RequestId: a.RequestID,
		RecordedBy: a.RecordedBy, RecordTime: ts(a.RecordTime), ObjectionId: a.ObjectionID,
		Synthetic: a.Synthetic, ImprovementNotes: notesToProto(a.ImprovementNotes), FollowUps: followUpsToProto(a.FollowUps),
		Rollup: rollupToProto(a.Rollup),
	}
	FillResult(p, a.Result)
	return p
}

// AssessmentFromProto translates an assessment; nil stays nil.
func AssessmentFromProto(p *assessmentv1.Assessment) *model.Assessment {
	if p == nil {
		return nil
	}
	return &model.Assessment{
		RoundID: p.GetRoundId(), SchemeID: p.GetSchemeId(), SchemeVersion: p.GetSchemeVersion(), Year: p.GetYear(),
		InstitutionID: p.GetInstitutionId(), Institution: SnapshotFromProto(p.GetInstitution()), Result: ResultFromProto(p),
		Respondents: p.GetRespondents(), Notes: p.GetNotes(), Source: SourceFromProto(p.GetSource()), Revision: p.GetRevision(),
		Reason: p.GetReason(), AfterPublication: p.GetAfterPublication(), RequestID: p.GetRequestId(),
		RecordedBy: p.GetRecordedBy(), RecordTime: fromTS(p.GetRecordTime()), ObjectionID: p.GetObjectionId(),
		Synthetic: p.GetSynthetic(), ImprovementNotes: notesFromProto(p.GetImprovementNotes()), FollowUps: followUpsFromProto(p.GetFollowUps()),
		Rollup: rollupFromProto(p.GetRollup()),
	}
}

// AssessmentsToProto translates a list.
func AssessmentsToProto(as []*model.Assessment) []*assessmentv1.Assessment {
	if as == nil {
		return nil
	}
	out := make([]*assessmentv1.Assessment, len(as))
	for i, a := range as {
		out[i] = AssessmentToProto(a)
	}
	return out
}

// AssessmentsFromProto translates a list.
func AssessmentsFromProto(ps []*assessmentv1.Assessment) []*model.Assessment {
	if ps == nil {
		return nil
	}
	out := make([]*model.Assessment, len(ps))
	for i, p := range ps {
		out[i] = AssessmentFromProto(p)
	}
	return out
}

// CeremonyToProto translates a ceremony; nil stays nil.
func CeremonyToProto(c *model.Ceremony) *assessmentv1.Ceremony {
	if c == nil {
		return nil
	}
	return &assessmentv1.Ceremony{Name: c.Name, Place: c.Place, Date: c.Date}
}

// CeremonyFromProto translates a ceremony; nil stays nil.
func CeremonyFromProto(c *assessmentv1.Ceremony) *model.Ceremony {
	if c == nil {
		return nil
	}
	return &model.Ceremony{Name: c.GetName(), Place: c.GetPlace(), Date: c.GetDate()}
}

// PresentedByToProto translates a presenter; nil stays nil.
func PresentedByToProto(p *model.PresentedBy) *assessmentv1.PresentedBy {
	if p == nil {
		return nil
	}
	return &assessmentv1.PresentedBy{Name: p.Name, Office: p.Office}
}

// PresentedByFromProto translates a presenter; nil stays nil.
func PresentedByFromProto(p *assessmentv1.PresentedBy) *model.PresentedBy {
	if p == nil {
		return nil
	}
	return &model.PresentedBy{Name: p.GetName(), Office: p.GetOffice()}
}

// AwardToProto translates an award; nil stays nil.
func AwardToProto(a *model.Award) *assessmentv1.Award {
	if a == nil {
		return nil
	}
	b := a.Basis
	return &assessmentv1.Award{
		Id: a.ID, RoundId: a.RoundID, SchemeId: a.SchemeID, SchemeVersion: a.SchemeVersion, Year: a.Year,
		Institution: SnapshotToProto(a.Institution), Title: a.Title, Ceremony: CeremonyToProto(a.Ceremony),
		PresentedBy: PresentedByToProto(a.PresentedBy), State: assessmentv1.AwardState(a.State), RevokeReason: a.RevokeReason,
		Notes: a.Notes, Source: SourceToProto(a.Source), RequestId: a.RequestID, GrantedBy: a.GrantedBy, RevokedBy: a.RevokedBy,
		GrantTime: ts(a.GrantTime), RevokeTime: ts(a.RevokeTime),
		Basis: &assessmentv1.AwardBasis{
			Kind: assessmentv1.AwardBasisKind(b.Kind), RuleCode: b.RuleCode, Score: b.Score, BandCode: b.BandCode, BandLabel: b.BandLabel,
			BandZone: assessmentv1.BandZone(b.BandZone), Rank: b.Rank, OutOf: b.OutOf, PeerGroup: b.PeerGroup,
			PeerGroupName: b.PeerGroupName, Scope: b.Scope, ScopeName: b.ScopeName, AssessmentRevision: b.AssessmentRevision,
		},
	}
}

// AwardFromProto translates an award; nil stays nil.
func AwardFromProto(p *assessmentv1.Award) *model.Award {
	if p == nil {
		return nil
	}
	b := p.GetBasis()
	return &model.Award{
		ID: p.GetId(), RoundID: p.GetRoundId(), SchemeID: p.GetSchemeId(), SchemeVersion: p.GetSchemeVersion(), Year: p.GetYear(),
		Institution: SnapshotFromProto(p.GetInstitution()), Title: p.GetTitle(), Ceremony: CeremonyFromProto(p.GetCeremony()),
		PresentedBy: PresentedByFromProto(p.GetPresentedBy()), State: model.AwardState(p.GetState()), RevokeReason: p.GetRevokeReason(),
		Notes: p.GetNotes(), Source: SourceFromProto(p.GetSource()), RequestID: p.GetRequestId(), GrantedBy: p.GetGrantedBy(),
		RevokedBy: p.GetRevokedBy(), GrantTime: fromTS(p.GetGrantTime()), RevokeTime: fromTS(p.GetRevokeTime()),
		Basis: model.AwardBasis{
			Kind: model.AwardBasisKind(b.GetKind()), RuleCode: b.GetRuleCode(), Score: b.GetScore(), BandCode: b.GetBandCode(),
			BandLabel: b.GetBandLabel(), BandZone: model.BandZone(b.GetBandZone()), Rank: b.GetRank(), OutOf: b.GetOutOf(),
			PeerGroup: b.GetPeerGroup(), PeerGroupName: b.GetPeerGroupName(), Scope: b.GetScope(), ScopeName: b.GetScopeName(),
			AssessmentRevision: b.GetAssessmentRevision(),
		},
	}
}

// AwardsToProto translates a list.
func AwardsToProto(as []*model.Award) []*assessmentv1.Award {
	if as == nil {
		return nil
	}
	out := make([]*assessmentv1.Award, len(as))
	for i, a := range as {
		out[i] = AwardToProto(a)
	}
	return out
}

// InstitutionFromProto translates the registry's institution.
func InstitutionFromProto(p *registryv1.Institution) model.Institution {
	in := model.Institution{
		ID: p.GetId(), Name: p.GetName(), RegionCode: p.GetRegionCode(), ParentID: p.GetParentId(), Kind: model.Kind(p.GetKind()),
		Retired: p.GetStatus() == registryv1.InstitutionStatus_INSTITUTION_STATUS_RETIRED, RetireReason: p.GetRetireReason(),
		Head: HeadFromProto(p.GetHead()), Revision: p.GetRevision(), YearlyServiceUsers: p.GetYearlyServiceUsers(),
	}
	for _, h := range p.GetPastHeads() {
		in.PastHeads = append(in.PastHeads, *HeadFromProto(h))
	}
	return in
}

// ObjectionToProto translates an objection; nil stays nil.
func ObjectionToProto(o *model.Objection) *assessmentv1.Objection {
	if o == nil {
		return nil
	}
	return &assessmentv1.Objection{
		Id: o.ID, RoundId: o.RoundID, InstitutionId: o.InstitutionID, InstitutionName: o.InstitutionName,
		AgainstRevision: o.AgainstRevision, AgainstTotal: o.AgainstTotal, AgainstBandCode: o.AgainstBandCode,
		Reasons: o.Reasons, Evidence: o.Evidence, State: assessmentv1.ObjectionState(o.State),
		FiledBy: o.FiledBy, FileTime: ts(o.FileTime), WindowEnd: ts(o.WindowEnd), WindowEndLocal: o.WindowEndLocal,
		DecidedBy: o.DecidedBy, DecideTime: ts(o.DecideTime), DecisionReasons: o.DecisionReasons,
		CorrectionRevision: o.CorrectionRevision, CorrectedTotal: o.CorrectedTotal, CorrectedBandCode: o.CorrectedBandCode,
	}
}

// ObjectionFromProto translates a stored objection of the round of scheme
// and year; the request fields and position are the store's to fill.
func ObjectionFromProto(p *assessmentv1.Objection, schemeID string, year int32) *model.Objection {
	if p == nil {
		return nil
	}
	return &model.Objection{
		ID: p.GetId(), RoundID: p.GetRoundId(), SchemeID: schemeID, Year: year, InstitutionID: p.GetInstitutionId(),
		InstitutionName: p.GetInstitutionName(), AgainstRevision: p.GetAgainstRevision(), AgainstTotal: p.GetAgainstTotal(),
		AgainstBandCode: p.GetAgainstBandCode(), Reasons: p.GetReasons(), Evidence: p.GetEvidence(),
		State: model.ObjectionState(p.GetState()), FiledBy: p.GetFiledBy(), FileTime: fromTS(p.GetFileTime()),
		WindowEnd: fromTS(p.GetWindowEnd()), WindowEndLocal: p.GetWindowEndLocal(), DecidedBy: p.GetDecidedBy(),
		DecideTime: fromTS(p.GetDecideTime()), DecisionReasons: p.GetDecisionReasons(),
		CorrectionRevision: p.GetCorrectionRevision(), CorrectedTotal: p.GetCorrectedTotal(), CorrectedBandCode: p.GetCorrectedBandCode(),
	}
}

// CeremonyAwardsToProto translates the awards presented at a ceremony.
func CeremonyAwardsToProto(as []model.CeremonyAward) []*assessmentv1.CeremonyAward {
	out := make([]*assessmentv1.CeremonyAward, len(as))
	for i, a := range as {
		out[i] = &assessmentv1.CeremonyAward{
			AwardId: a.AwardID, InstitutionId: a.InstitutionID, InstitutionName: a.InstitutionName, Title: a.Title,
			SchemeId: a.SchemeID, Year: a.Year, Score: a.Score, BandCode: a.BandCode, BandLabel: a.BandLabel, ProvinceCode: a.ProvinceCode,
		}
	}
	return out
}

// CeremonyAwardsFromProto translates the awards presented at a ceremony.
func CeremonyAwardsFromProto(ps []*assessmentv1.CeremonyAward) []model.CeremonyAward {
	out := make([]model.CeremonyAward, len(ps))
	for i, p := range ps {
		out[i] = model.CeremonyAward{
			AwardID: p.GetAwardId(), InstitutionID: p.GetInstitutionId(), InstitutionName: p.GetInstitutionName(), Title: p.GetTitle(),
			SchemeID: p.GetSchemeId(), Year: p.GetYear(), Score: p.GetScore(), BandCode: p.GetBandCode(), BandLabel: p.GetBandLabel(),
			ProvinceCode: p.GetProvinceCode(),
		}
	}
	return out
}

// AwardCeremonyToProto translates a ceremony; nil stays nil. The request
// fingerprints and the storage revision stay out: they are the store's.
func AwardCeremonyToProto(c *model.AwardCeremony) *assessmentv1.AwardCeremony {
	if c == nil {
		return nil
	}
	return &assessmentv1.AwardCeremony{
		Id: c.ID, Name: c.Name, Place: c.Place, Date: c.Date, ProvinceCode: c.ProvinceCode, Host: c.Host,
		Presenter: PresentedByToProto(c.Presenter), Notes: c.Notes, State: assessmentv1.CeremonyState(c.State),
		CreatedBy: c.CreatedBy, CreateTime: ts(c.CreateTime), Awards: CeremonyAwardsToProto(c.Awards),
		HeldBy: c.HeldBy, HoldTime: ts(c.HoldTime), RequestId: c.RequestID, HoldRequestId: c.HoldRequestID,
	}
}

// AwardCeremonyFromProto translates a ceremony; nil stays nil.
func AwardCeremonyFromProto(p *assessmentv1.AwardCeremony) *model.AwardCeremony {
	if p == nil {
		return nil
	}
	return &model.AwardCeremony{
		ID: p.GetId(), Name: p.GetName(), Place: p.GetPlace(), Date: p.GetDate(), ProvinceCode: p.GetProvinceCode(), Host: p.GetHost(),
		Presenter: PresentedByFromProto(p.GetPresenter()), Notes: p.GetNotes(), State: model.CeremonyState(p.GetState()),
		CreatedBy: p.GetCreatedBy(), CreateTime: fromTS(p.GetCreateTime()), Awards: CeremonyAwardsFromProto(p.GetAwards()),
		HeldBy: p.GetHeldBy(), HoldTime: fromTS(p.GetHoldTime()), RequestID: p.GetRequestId(), HoldRequestID: p.GetHoldRequestId(),
	}
}

func notesToProto(ns []model.ImprovementNote) []*assessmentv1.ImprovementNote {
	var out []*assessmentv1.ImprovementNote
	for _, n := range ns {
		out = append(out, noteToProto(&n))
	}
	return out
}

func noteToProto(n *model.ImprovementNote) *assessmentv1.ImprovementNote {
	if n == nil {
		return nil
	}
	return &assessmentv1.ImprovementNote{Id: n.ID, DimensionCode: n.DimensionCode, Note: n.Note}
}

func notesFromProto(ps []*assessmentv1.ImprovementNote) []model.ImprovementNote {
	var out []model.ImprovementNote
	for _, p := range ps {
		out = append(out, *noteFromProto(p))
	}
	return out
}

func noteFromProto(p *assessmentv1.ImprovementNote) *model.ImprovementNote {
	if p == nil {
		return nil
	}
	return &model.ImprovementNote{ID: p.GetId(), DimensionCode: p.GetDimensionCode(), Note: p.GetNote()}
}

func followUpsToProto(fs []model.NoteFollowUp) []*assessmentv1.NoteFollowUp {
	var out []*assessmentv1.NoteFollowUp
	for _, f := range fs {
		out = append(out, &assessmentv1.NoteFollowUp{NoteId: f.NoteID, Addressed: f.Addressed, Comment: f.Comment, Note: noteToProto(f.Note)})
	}
	return out
}

func followUpsFromProto(ps []*assessmentv1.NoteFollowUp) []model.NoteFollowUp {
	var out []model.NoteFollowUp
	for _, p := range ps {
		out = append(out, model.NoteFollowUp{NoteID: p.GetNoteId(), Addressed: p.GetAddressed(), Comment: p.GetComment(), Note: noteFromProto(p.GetNote())})
	}
	return out
}

func rollupToProto(r *model.Rollup) *assessmentv1.Rollup {
	if r == nil {
		return nil
	}
	p := &assessmentv1.Rollup{RuleCode: r.RuleCode, Method: assessmentv1.RollupMethod(r.Method)}
	for _, u := range r.Units {
		p.Units = append(p.Units, &assessmentv1.RollupUnit{InstitutionId: u.InstitutionID, Revision: u.Revision, Total: u.Total, Respondents: u.Respondents})
	}
	return p
}

func rollupFromProto(p *assessmentv1.Rollup) *model.Rollup {
	if p == nil {
		return nil
	}
	r := &model.Rollup{RuleCode: p.GetRuleCode(), Method: model.RollupMethod(p.GetMethod())}
	for _, u := range p.GetUnits() {
		r.Units = append(r.Units, model.RollupUnit{InstitutionID: u.GetInstitutionId(), Revision: u.GetRevision(), Total: u.GetTotal(), Respondents: u.GetRespondents()})
	}
	return r
}

// SurveyDefToProto translates a stated survey.
func SurveyDefToProto(d model.SurveyDef) *assessmentv1.SurveyDefinition {
	p := &assessmentv1.SurveyDefinition{}
	for _, e := range d.Elements {
		p.Elements = append(p.Elements, &assessmentv1.SurveyElement{Code: e.Code, Weight: e.Weight, Name: e.Name})
	}
	return p
}

// SurveyDefFromProto translates a stated survey.
func SurveyDefFromProto(p *assessmentv1.SurveyDefinition) model.SurveyDef {
	var d model.SurveyDef
	for _, e := range p.GetElements() {
		d.Elements = append(d.Elements, model.SurveyElement{Code: e.GetCode(), Weight: e.GetWeight(), Name: e.GetName()})
	}
	return d
}
