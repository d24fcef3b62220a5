package natsx

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"
)

// MaxAtomicBatch is the most messages the server takes in one atomic batch.
const MaxAtomicBatch = 1000

// Atomic-batch headers (the server's ADR-50 protocol; nats.go has no API
// for it yet).
const (
	hdrBatchID     = "Nats-Batch-Id"
	hdrBatchSeq    = "Nats-Batch-Sequence"
	hdrBatchCommit = "Nats-Batch-Commit"
)

// BatchAck is what the server answers a committed atomic batch: the stream
// and the sequence of its last message; the batch's messages are the Count
// sequences ending there.
type BatchAck struct {
	Stream string `json:"stream"`
	Last   uint64 `json:"seq"`
	Batch  string `json:"batch"`
	Count  uint64 `json:"count"`
}

// First is the sequence of the batch's first message.
func (a BatchAck) First() uint64 { return a.Last - a.Count + 1 }

// ClearBatchHeaders removes what PublishAtomic wrote into msgs' headers,
// so messages of a batch the server refused can be published again alone.
func ClearBatchHeaders(msgs []*nats.Msg) {
	for _, m := range msgs {
		m.Header.Del(hdrBatchID)
		m.Header.Del(hdrBatchSeq)
		m.Header.Del(hdrBatchCommit)
	}
}

// PublishAtomic publishes msgs to a stream that allows atomic publishing
// as one batch: the server stores every message, or none (any expectation
// header that fails, a full stream, a batch left unfinished by a lost
// connection). The stream must allow atomic publish; msgs may carry the
// usual expectation headers (Nats-Expected-Last-Subject-Sequence, ...).
// A refusal is the server's *jetstream.APIError.
func PublishAtomic(ctx context.Context, nc *nats.Conn, msgs []*nats.Msg) (BatchAck, error) {
	switch {
	case len(msgs) == 0:
		return BatchAck{}, errors.New("atomic batch: no message")
	case len(msgs) > MaxAtomicBatch:
		return BatchAck{}, fmt.Errorf("atomic batch: %d messages, at most %d", len(msgs), MaxAtomicBatch)
	}
	id := nuid.Next()
	for i, m := range msgs {
		if m.Header == nil {
			m.Header = nats.Header{}
		}
		m.Header.Set(hdrBatchID, id)
		m.Header.Set(hdrBatchSeq, strconv.Itoa(i+1))
		if i < len(msgs)-1 {
			// Staged: the server answers only the commit.
			if err := nc.PublishMsg(m); err != nil {
				return BatchAck{}, fmt.Errorf("atomic batch %s: message %d: %w", id, i+1, err)
			}
			continue
		}
		m.Header.Set(hdrBatchCommit, "1")
	}
	resp, err := nc.RequestMsgWithContext(ctx, msgs[len(msgs)-1])
	if err != nil {
		return BatchAck{}, fmt.Errorf("atomic batch %s: commit: %w", id, err)
	}
	var ack struct {
		Error *jetstream.APIError `json:"error"`
		BatchAck
	}
	if err := json.Unmarshal(resp.Data, &ack); err != nil {
		return BatchAck{}, fmt.Errorf("atomic batch %s: commit answer %q: %w", id, resp.Data, err)
	}
	if ack.Error != nil {
		return BatchAck{}, ack.Error
	}
	if ack.Count != uint64(len(msgs)) || ack.Batch != id {
		return BatchAck{}, fmt.Errorf("atomic batch %s: the server committed %d messages of batch %q, want %d", id, ack.Count, ack.Batch, len(msgs))
	}
	return ack.BatchAck, nil
}
