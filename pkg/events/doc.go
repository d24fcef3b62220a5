// Package events is Predikat's event contract: the one place that names the
// JetStream streams, every NATS subject (as a template beside its wildcard
// filter, so producers and consumers cannot drift apart), the subject tokens
// (the national scope, institution kinds), the CloudEvents headers and type
// names, and how every event is encoded and decoded. Producers, consumers,
// tests and subscribers all use it; a test in this package fails when a
// subject literal appears anywhere else. The layout is documented for
// subscribers in proto/predikat/events/v1/events.proto.
//
// It is part of the public contract: an outside Go program may import it
// without pulling in a NATS server or a Redis client.
package events
