// Package pbconv translates between the registry's plain domain types and
// the generated API messages. Handlers use it at the RPC edge; the store uses
// it at the storage edge, because records are kept in KV as API messages.
package pbconv

import (
	"maps"
	"slices"
	"time"

	registryv1 "github.com/predikat-id/predikat/pkg/gen/predikat/registry/v1"
	"github.com/predikat-id/predikat/services/registry/internal/institution"
	"github.com/predikat-id/predikat/services/registry/internal/region"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Region returns the API form of r.
func Region(r *region.Region) *registryv1.Region {
	if r == nil {
		return nil
	}
	return &registryv1.Region{
		Code: r.Code, Name: r.Name, Level: registryv1.RegionLevel(r.Level),
		ParentCode: r.ParentCode, ProvinceCode: r.ProvinceCode, Builtin: r.Builtin, CreatedBy: r.CreatedBy,
	}
}

// Regions returns the API form of rs.
func Regions(rs []*region.Region) []*registryv1.Region {
	out := make([]*registryv1.Region, len(rs))
	for i, r := range rs {
		out[i] = Region(r)
	}
	return out
}

// RegionFromPB returns the domain form of r.
func RegionFromPB(r *registryv1.Region) *region.Region {
	return &region.Region{
		Code: r.GetCode(), Name: r.GetName(), Level: region.Level(r.GetLevel()),
		ParentCode: r.GetParentCode(), ProvinceCode: r.GetProvinceCode(), Builtin: r.GetBuiltin(), CreatedBy: r.GetCreatedBy(),
	}
}

// Institution returns the API form of in.
func Institution(in *institution.Institution) *registryv1.Institution {
	if in == nil {
		return nil
	}
	out := &registryv1.Institution{
		Id: in.ID, Name: in.Name, Kind: registryv1.InstitutionKind(in.Kind),
		RegionCode: in.RegionCode, ProvinceCode: provinceOf(in.RegionCode), ParentId: in.ParentID,
		Head: head(in.Head), Status: registryv1.InstitutionStatus(in.Status),
		Aliases: slices.Clone(in.Aliases), ExternalIds: maps.Clone(in.ExternalIDs),
		RetireReason: in.RetireReason, Revision: in.Revision, YearlyServiceUsers: in.YearlyServiceUsers,
		CreateTime: timestamp(in.CreateTime), UpdateTime: timestamp(in.UpdateTime),
		CreatedBy: in.CreatedBy, UpdatedBy: in.UpdatedBy,
	}
	if in.PastHeads != nil {
		out.PastHeads = make([]*registryv1.Head, len(in.PastHeads))
		for i, h := range in.PastHeads {
			out.PastHeads[i] = head(h)
		}
	}
	return out
}

// Institutions returns the API form of ins.
func Institutions(ins []*institution.Institution) []*registryv1.Institution {
	out := make([]*registryv1.Institution, len(ins))
	for i, in := range ins {
		out[i] = Institution(in)
	}
	return out
}

// InstitutionFromPB returns the domain form of in (nil for nil).
func InstitutionFromPB(in *registryv1.Institution) *institution.Institution {
	if in == nil {
		return nil
	}
	out := &institution.Institution{
		ID: in.GetId(), Name: in.GetName(), Kind: institution.Kind(in.GetKind()),
		RegionCode: in.GetRegionCode(), ParentID: in.GetParentId(),
		Head: headFromPB(in.GetHead()), Status: institution.Status(in.GetStatus()),
		Aliases: slices.Clone(in.GetAliases()), ExternalIDs: maps.Clone(in.GetExternalIds()),
		RetireReason: in.GetRetireReason(), Revision: in.GetRevision(), YearlyServiceUsers: in.GetYearlyServiceUsers(),
		CreateTime: fromTimestamp(in.GetCreateTime()), UpdateTime: fromTimestamp(in.GetUpdateTime()),
		CreatedBy: in.GetCreatedBy(), UpdatedBy: in.GetUpdatedBy(),
	}
	if in.GetPastHeads() != nil {
		out.PastHeads = make([]*institution.Head, len(in.GetPastHeads()))
		for i, h := range in.GetPastHeads() {
			out.PastHeads[i] = headFromPB(h)
		}
	}
	return out
}

// Kinds returns the domain form of ks.
func Kinds(ks []registryv1.InstitutionKind) []institution.Kind {
	if ks == nil {
		return nil
	}
	out := make([]institution.Kind, len(ks))
	for i, k := range ks {
		out[i] = institution.Kind(k)
	}
	return out
}

// ChangeType returns the API form of t.
func ChangeType(t institution.ChangeType) registryv1.ChangeType {
	return registryv1.ChangeType(t)
}

func head(h *institution.Head) *registryv1.Head {
	if h == nil {
		return nil
	}
	return &registryv1.Head{Name: h.Name, Title: h.Title, TermStart: h.TermStart, TermEnd: h.TermEnd}
}

func headFromPB(h *registryv1.Head) *institution.Head {
	if h == nil {
		return nil
	}
	return &institution.Head{Name: h.GetName(), Title: h.GetTitle(), TermStart: h.GetTermStart(), TermEnd: h.GetTermEnd()}
}

// timestamp maps the zero time to an absent timestamp, as records written
// before they had times are stored.
func timestamp(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

func fromTimestamp(ts *timestamppb.Timestamp) time.Time {
	if ts == nil {
		return time.Time{}
	}
	return ts.AsTime()
}

// provinceOf is the province a region code lies in ("" for national and
// for a code that is none): derived, never taken from a caller or from what
// was stored, so records stored before it was filled in show it too.
func provinceOf(code string) string {
	p, err := region.Parse(code)
	if err != nil {
		return ""
	}
	return p.Province
}
