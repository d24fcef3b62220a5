package convert

import (
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	assessmentv1 "github.com/predikat-id/predikat/pkg/gen/predikat/assessment/v1"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Every field of a round survives the trip to its stored form and back,
// who closed, reopened and published it included.
func TestRoundRoundTrip(t *testing.T) {
	at := func(h int) *timestamppb.Timestamp {
		return timestamppb.New(time.Date(2024, 12, 1, h, 0, 0, 0, time.UTC))
	}
	in := &assessmentv1.Round{
		Id: "ombudsman-2024", SchemeId: "ombudsman", SchemeVersion: "2022", Year: 2024, Title: "Penilaian 2024",
		CollectionStart: "2024-03-01", CollectionEnd: "2024-11-30", State: assessmentv1.RoundState_ROUND_STATE_PUBLISHED,
		AssessmentCount: 3, RevisionCount: 4, CorrectionCount: 1, AwardCount: 2, SchemeProvisional: true, Notes: "n",
		CreatedBy: "user:a", CreateTime: at(1), CloseTime: at(2), PublishTime: at(5), PublishForceReason: "f",
		ClosedBy: "user:b", ReopenedBy: "user:c", ReopenTime: at(3), ReopenReason: "late", PublishedBy: "user:d",
	}
	if back := RoundToProto(RoundFromProto(in, 7)); !proto.Equal(back, in) {
		t.Errorf("round trip changed the round:\n got %v\nwant %v", back, in)
	}
}
