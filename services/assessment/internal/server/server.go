// Package server holds the AssessmentService gRPC handlers. They translate
// and delegate: protovalidate has checked each request's shape, a handler
// turns the request into a command or query of the application layer (package
// app), calls that one use case and translates its result back; faults carry
// their gRPC codes.
package server

import (
	"context"
	"github.com/predikat-id/predikat/pkg/platform/auth"

	assessmentv1 "github.com/predikat-id/predikat/pkg/gen/predikat/assessment/v1"
	"github.com/predikat-id/predikat/pkg/platform/pagetoken"
	"github.com/predikat-id/predikat/services/assessment/internal/app"
	"google.golang.org/protobuf/proto"
)

// Server implements predikat.assessment.v1.AssessmentService.
type Server struct {
	assessmentv1.UnimplementedAssessmentServiceServer
	app *app.App
}

// New returns the handlers.
func New(a *app.App) *Server { return &Server{app: a} }

// actor is the authenticated caller, never what the caller claims: the
// principal the auth interceptor put in the context.
func actor(ctx context.Context) string { return auth.Actor(ctx) }

// pageRequest is a list request: its filter is the request without paging.
type pageRequest interface {
	proto.Message
	GetPageSize() int32
	GetPageToken() string
}

// page decodes a list request's page token, bound to its filter, and returns
// the fingerprint that binds the next one.
func page[R pageRequest](req R, clearPaging func(R)) (app.Page, string, error) {
	filter := proto.Clone(req).(R)
	clearPaging(filter)
	fp := pagetoken.Fingerprint(filter)
	after, err := pagetoken.Decode(req.GetPageToken(), fp)
	if err != nil {
		return app.Page{}, "", err
	}
	size := int(req.GetPageSize())
	if size == 0 {
		size = pagetoken.DefaultPageSize
	}
	return app.Page{After: after, Size: size}, fp, nil
}

// nextToken is the token of the page after last, or "" when none follows.
func nextToken(fp string, more bool, last func() string) string {
	if !more {
		return ""
	}
	return pagetoken.Encode(fp, last())
}
