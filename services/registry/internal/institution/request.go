package institution

import "time"

// CreateRequest is what the registry remembers of a create that carried a
// request id: which institution it creates (id and creation time, fixed by
// the first attempt) and a fingerprint of what it asked for. A retry with
// the same id and fingerprint then creates, or returns, that same
// institution; the same id with another fingerprint is a different request
// reusing the id.
type CreateRequest struct {
	RequestID     string
	Fingerprint   string
	InstitutionID string
	CreateTime    time.Time
}

// Made reports whether in is the institution this request creates: the
// same id and the same creation time. The time tells it apart from an
// institution that held the id before the request (a caller-chosen id
// taken by someone else), which a retry must not claim as its own.
func (r CreateRequest) Made(in *Institution) bool {
	return in != nil && in.ID == r.InstitutionID && in.CreateTime.Equal(r.CreateTime)
}
