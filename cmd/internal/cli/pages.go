package cli

import (
	"context"

	"google.golang.org/grpc"
)

// allPages asks for every page of a List call, passing each answer's next
// page token back through setToken, and returns the items of all pages.
func allPages[Req any, Resp interface{ GetNextPageToken() string }, T any](
	ctx context.Context, req Req, setToken func(Req, string),
	call func(context.Context, Req, ...grpc.CallOption) (Resp, error), items func(Resp) []T,
) ([]T, error) {
	var all []T
	for {
		resp, err := call(ctx, req)
		if err != nil {
			return nil, err
		}
		all = append(all, items(resp)...)
		next := resp.GetNextPageToken()
		if next == "" {
			return all, nil
		}
		setToken(req, next)
	}
}
