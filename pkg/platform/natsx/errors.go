package natsx

import (
	"errors"

	"github.com/nats-io/nats.go/jetstream"
)

// IsWrongLastSequence reports whether err is JetStream refusing a publish
// because the stream or subject moved past the expected sequence: the
// compare-and-set lost. Replicated streams answer with a different code for
// the same thing, so both count.
func IsWrongLastSequence(err error) bool {
	var apiErr *jetstream.APIError
	if !errors.As(err, &apiErr) {
		return false
	}
	return apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence ||
		apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant
}

// errCodeBatchDuplicate is the server's refusal of an atomic batch holding
// a message id it has stored inside its de-duplication window.
const errCodeBatchDuplicate = 10201

// IsBatchDuplicate reports whether an atomic batch was refused because a
// message id in it was stored before (a batch sent again after its answer
// was lost, or a record refused and sent again under its id).
func IsBatchDuplicate(err error) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode == errCodeBatchDuplicate
}
