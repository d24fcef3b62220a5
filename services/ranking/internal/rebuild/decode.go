package rebuild

import (
	"strings"
	"time"
	"unicode/utf8"
	"unsafe"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/reflect/protoreflect"

	eventsv1 "github.com/predikat-id/predikat/pkg/gen/predikat/events/v1"
	"github.com/predikat-id/predikat/services/ranking/internal/board"
)

// A rebuild decodes every record of the log, and proto.Unmarshal followed
// by board.FromEvent builds the whole event (dimension scores, the scheme's
// peer groups and band table, timestamps: some sixty allocations) to keep a
// dozen fields of it. fastDecoder reads those fields straight from the
// wire into a board.Record whose strings view the message body, and
// decodes peer groups and band tables (a round has a few of each) once.
//
// It is exact or it declines: a body it accepts is one proto.Unmarshal
// accepts too (the same wire checks, and UTF-8 checks of every string of
// the whole event, read or not: see walk and valid), and the record is the
// one board.FromEvent makes of it (decode_test.go compares both on
// samples, damaged bodies and a fuzz target). Anything else (an event
// FromEvent refuses, a message field sent twice, which proto merges, a
// field in another wire type than the schema's) is left to the slow path,
// which logs and skips exactly as before.
type fastDecoder struct {
	// decoded peer groups and band tables by their wire bytes (an
	// institution's groups depend on its kind: a round has a few sets)
	groups    map[string]*groupSet
	tables    map[string][]board.Band
	lastTable struct {
		key   []byte
		bands []board.Band
	}
	key     []byte // scratch
	roundID struct {
		scheme string
		year   int32
		id     string
	}
}

// schema is what valid needs to know of a message type: per field number
// how its value is checked.
type schema struct {
	kinds []fieldCheck // by field number
	subs  []*schema    // by field number, for messages
}

type fieldCheck uint8

const (
	checkNone    fieldCheck = iota // unknown field or a scalar: the wire's own checks
	checkString                    // UTF-8
	checkMessage                   // recursively
	checkPackedVarint
	checkPacked32
	checkPacked64
)

var eventSchema = schemaOf((&eventsv1.AssessmentRecorded{}).ProtoReflect().Descriptor(), map[protoreflect.FullName]*schema{})

func schemaOf(md protoreflect.MessageDescriptor, seen map[protoreflect.FullName]*schema) *schema {
	if s, ok := seen[md.FullName()]; ok {
		return s
	}
	s := &schema{}
	seen[md.FullName()] = s
	fields := md.Fields()
	maxNum := 0
	for i := range fields.Len() {
		maxNum = max(maxNum, int(fields.Get(i).Number()))
	}
	s.kinds = make([]fieldCheck, maxNum+1)
	s.subs = make([]*schema, maxNum+1)
	for i := range fields.Len() {
		fd := fields.Get(i)
		n := fd.Number()
		switch fd.Kind() {
		case protoreflect.StringKind:
			s.kinds[n] = checkString
		case protoreflect.MessageKind, protoreflect.GroupKind:
			s.kinds[n] = checkMessage
			s.subs[n] = schemaOf(fd.Message(), seen)
		case protoreflect.Fixed32Kind, protoreflect.Sfixed32Kind, protoreflect.FloatKind:
			if fd.IsList() {
				s.kinds[n] = checkPacked32
			}
		case protoreflect.Fixed64Kind, protoreflect.Sfixed64Kind, protoreflect.DoubleKind:
			if fd.IsList() {
				s.kinds[n] = checkPacked64
			}
		case protoreflect.BytesKind:
		default: // varints
			if fd.IsList() {
				s.kinds[n] = checkPackedVarint
			}
		}
	}
	return s
}

// valid reports whether proto.Unmarshal would accept b as a message of s:
// well-formed tags and values, UTF-8 in every string, the same in every
// nested message and packed list. Fields it does not know are skipped as
// proto skips them (kept as unknown), as are known fields sent with
// another wire type.
func valid(b []byte, s *schema, depth int) bool {
	if depth > 100 {
		return false // proto's limit is far higher: the slow path decides
	}
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return false
		}
		b = b[n:]
		check := checkNone
		if int(num) < len(s.kinds) {
			check = s.kinds[num]
		}
		if check == checkNone || typ != protowire.BytesType {
			if n = protowire.ConsumeFieldValue(num, typ, b); n < 0 {
				return false
			}
			b = b[n:]
			continue
		}
		v, n := protowire.ConsumeBytes(b)
		if n < 0 {
			return false
		}
		b = b[n:]
		if !validValue(v, check, s.subs[num], depth) {
			return false
		}
	}
	return true
}

// validValue checks one length-delimited value.
func validValue(v []byte, check fieldCheck, sub *schema, depth int) bool {
	switch check {
	case checkString:
		return utf8.Valid(v)
	case checkMessage:
		return valid(v, sub, depth+1)
	case checkPacked32:
		return len(v)%4 == 0
	case checkPacked64:
		return len(v)%8 == 0
	case checkPackedVarint:
		for len(v) > 0 {
			_, n := protowire.ConsumeVarint(v)
			if n < 0 {
				return false
			}
			v = v[n:]
		}
	}
	return true
}

// wire field numbers of what the decoder reads
const (
	evTime          = 2
	evAssessment    = 3
	evPeerGroups    = 4
	evScale         = 5
	evRoundRevision = 6
	evBands         = 7

	asRoundID       = 1
	asSchemeID      = 2
	asSchemeVersion = 3
	asYear          = 4
	asInstitutionID = 5
	asInstitution   = 6
	asBasis         = 7
	asTotal         = 11
	asBandCode      = 12
	asBandLabel     = 13
	asBandZone      = 14
	asRevision      = 18
	asRecordTime    = 23
	asSynthetic     = 25

	inName     = 2
	inKind     = 3
	inRegion   = 4
	inRegName  = 5
	inProvince = 6

	scPrecision = 3

	pgCode   = 1
	pgName   = 2
	pgScopes = 4

	bdCode  = 1
	bdLabel = 2
	bdZone  = 3

	tsSeconds = 1
	tsNanos   = 2
)

// wireField is one field of a message on the wire: for a varint its
// value, for a length-delimited field its bytes.
type wireField struct {
	num protowire.Number
	typ protowire.Type
	v   uint64
	bs  []byte
}

// next reads the first field of b and returns the rest; ok false on a
// malformed message.
func next(b []byte) (f wireField, rest []byte, ok bool) {
	num, typ, n := protowire.ConsumeTag(b)
	if n < 0 {
		return f, nil, false
	}
	b = b[n:]
	f.num, f.typ = num, typ
	switch typ {
	case protowire.VarintType:
		f.v, n = protowire.ConsumeVarint(b)
	case protowire.BytesType:
		f.bs, n = protowire.ConsumeBytes(b)
	default:
		n = protowire.ConsumeFieldValue(num, typ, b)
	}
	if n < 0 {
		return f, nil, false
	}
	return f, b[n:], true
}

// reads maps the field numbers a walker reads to the wire type proto
// expects for them (plus one; 0: not read). A field it reads that comes
// with another type is one proto keeps as unknown: rare enough to leave to
// the slow path.
type reads []int8

func readsOf(m map[protowire.Number]protowire.Type) reads {
	n := protowire.Number(0)
	for k := range m {
		n = max(n, k)
	}
	r := make(reads, n+1)
	for k, t := range m {
		r[k] = int8(t) + 1
	}
	return r
}

// wanted reports whether f is read (true) or skipped (false); ok false
// when it comes with the wrong type.
func (r reads) wanted(f wireField) (read, ok bool) {
	if int(f.num) >= len(r) || r[f.num] == 0 {
		return false, true
	}
	return true, r[f.num] == int8(f.typ)+1
}

var (
	eventReads = readsOf(map[protowire.Number]protowire.Type{evTime: protowire.BytesType, evAssessment: protowire.BytesType, evPeerGroups: protowire.BytesType,
		evScale: protowire.BytesType, evRoundRevision: protowire.VarintType, evBands: protowire.BytesType})
	assessmentReads = readsOf(map[protowire.Number]protowire.Type{asRoundID: protowire.BytesType, asSchemeID: protowire.BytesType, asSchemeVersion: protowire.BytesType,
		asYear: protowire.VarintType, asInstitutionID: protowire.BytesType, asInstitution: protowire.BytesType,
		asBasis: protowire.VarintType, asTotal: protowire.BytesType, asBandCode: protowire.BytesType,
		asBandLabel: protowire.BytesType, asBandZone: protowire.VarintType, asRevision: protowire.VarintType,
		asRecordTime: protowire.BytesType, asSynthetic: protowire.VarintType})
	snapshotReads = readsOf(map[protowire.Number]protowire.Type{inName: protowire.BytesType, inKind: protowire.VarintType, inRegion: protowire.BytesType,
		inRegName: protowire.BytesType, inProvince: protowire.BytesType})
	timeReads  = readsOf(map[protowire.Number]protowire.Type{tsSeconds: protowire.VarintType, tsNanos: protowire.VarintType})
	scaleReads = readsOf(map[protowire.Number]protowire.Type{scPrecision: protowire.VarintType})
	groupReads = readsOf(map[protowire.Number]protowire.Type{pgCode: protowire.BytesType, pgName: protowire.BytesType}) // scopes: packed or not
	bandReads  = readsOf(map[protowire.Number]protowire.Type{bdCode: protowire.BytesType, bdLabel: protowire.BytesType, bdZone: protowire.VarintType})
)

// walk calls fn with every field of b that r reads and checks the others
// as valid does (s is b's schema): false on a malformed message, a read
// field of the wrong type, a string that is not UTF-8, or when fn says so.
// A read message field is fn's to check: it walks it with its own schema
// (peer groups and band tables are checked when they are decoded).
func walk(b []byte, r reads, s *schema, fn func(wireField) bool) bool {
	for len(b) > 0 {
		f, rest, ok := next(b)
		if !ok {
			return false
		}
		b = rest
		read, ok := r.wanted(f)
		if !ok {
			return false
		}
		check := checkNone
		if int(f.num) < len(s.kinds) {
			check = s.kinds[f.num]
		}
		switch {
		case read && check == checkString && !utf8.Valid(f.bs):
			return false
		case read:
			if !fn(f) {
				return false
			}
		case f.typ == protowire.BytesType && check != checkNone:
			if !validValue(f.bs, check, s.subs[f.num], 1) {
				return false
			}
		}
	}
	return true
}

// The schemas of the messages walk reads.
var (
	assessmentSchema = eventSchema.subs[evAssessment]
	snapshotSchema   = assessmentSchema.subs[asInstitution]
	timeSchema       = eventSchema.subs[evTime]
	scaleSchema      = eventSchema.subs[evScale]
	groupSchema      = eventSchema.subs[evPeerGroups]
	bandSchema       = eventSchema.subs[evBands]
)

// view is a string viewing b: the record's strings view the message body,
// which nobody writes to (Bulk.Add copies what it keeps).
func view(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// timestamp is a google.protobuf.Timestamp in Unix milliseconds, as
// AsTime().UnixMilli() computes it.
func timestamp(b []byte) (int64, bool) {
	var sec, nanos int64
	ok := walk(b, timeReads, timeSchema, func(f wireField) bool {
		if f.num == tsSeconds {
			sec = int64(f.v)
		} else {
			nanos = int64(int32(f.v))
		}
		return true
	})
	return time.Unix(sec, nanos).UnixMilli(), ok
}

// eventParts are the top-level fields of an AssessmentRecorded.
type eventParts struct {
	assessment      []byte
	hasA, hasTime   bool
	hasScale        bool
	eventTime       int64
	precision       int // the scale's; -1 without one
	roundRevision   uint64
	groups, bands   [16][]byte
	ngroups, nbands int
}

// set takes one field. A message field sent twice is declined: proto
// merges the two.
func (p *eventParts) set(f wireField) bool {
	switch f.num {
	case evTime:
		return setTimeOnce(&p.hasTime, &p.eventTime, f.bs)
	case evAssessment:
		if p.hasA {
			return false
		}
		p.hasA, p.assessment = true, f.bs
	case evScale:
		if p.hasScale {
			return false
		}
		p.hasScale, p.precision = true, 0
		return walk(f.bs, scaleReads, scaleSchema, func(f wireField) bool { p.precision = int(int32(f.v)); return true })
	case evRoundRevision:
		p.roundRevision = f.v
	case evPeerGroups:
		return appendPart(&p.groups, &p.ngroups, f.bs)
	case evBands:
		return appendPart(&p.bands, &p.nbands, f.bs)
	}
	return true
}

// setTimeOnce reads a Timestamp field into t; a second one is declined,
// as proto would merge the two.
func setTimeOnce(has *bool, t *int64, bs []byte) bool {
	if *has {
		return false
	}
	var ok bool
	*has = true
	*t, ok = timestamp(bs)
	return ok
}

// appendPart keeps one more element of a repeated field; past the room
// there is, the slow path decides.
func appendPart(parts *[16][]byte, n *int, bs []byte) bool {
	if *n == len(parts) {
		return false
	}
	parts[*n] = bs
	*n++
	return true
}

// assessmentParts are the fields of an Assessment the boards use.
type assessmentParts struct {
	roundID, scheme, version, institution, total, bandCode, bandLabel string
	year, basis, zone                                                 int32
	revision                                                          uint64
	synthetic                                                         bool
	snapshot                                                          []byte
	hasSnapshot, hasRecordTime                                        bool
	recordTime                                                        int64
}

func (p *assessmentParts) set(f wireField) bool {
	switch f.num {
	case asRoundID:
		p.roundID = view(f.bs)
	case asSchemeID:
		p.scheme = view(f.bs)
	case asSchemeVersion:
		p.version = view(f.bs)
	case asInstitutionID:
		p.institution = view(f.bs)
	case asTotal:
		p.total = view(f.bs)
	case asBandCode:
		p.bandCode = view(f.bs)
	case asBandLabel:
		p.bandLabel = view(f.bs)
	case asInstitution:
		if p.hasSnapshot {
			return false
		}
		p.hasSnapshot, p.snapshot = true, f.bs
	case asRecordTime:
		return setTimeOnce(&p.hasRecordTime, &p.recordTime, f.bs)
	default:
		p.setNumber(f)
	}
	return true
}

func (p *assessmentParts) setNumber(f wireField) {
	switch f.num {
	case asYear:
		p.year = int32(f.v)
	case asBasis:
		p.basis = int32(f.v)
	case asBandZone:
		p.zone = int32(f.v)
	case asRevision:
		p.revision = f.v
	case asSynthetic:
		p.synthetic = f.v != 0
	}
}

// snapshotParts are the fields of an InstitutionSnapshot the boards use.
type snapshotParts struct {
	name, region, regionName, province string
	kind                               int32
}

func (p *snapshotParts) set(f wireField) bool {
	switch f.num {
	case inName:
		p.name = view(f.bs)
	case inRegion:
		p.region = view(f.bs)
	case inRegName:
		p.regionName = view(f.bs)
	case inProvince:
		p.province = view(f.bs)
	case inKind:
		p.kind = int32(f.v)
	}
	return true
}

// decode reads one AssessmentRecorded body stored at sequence seq; ok false
// means the slow path decides.
func (d *fastDecoder) decode(data []byte, seq uint64) (board.Record, bool) {
	ev := eventParts{precision: -1}
	if !walk(data, eventReads, eventSchema, ev.set) || !ev.hasA {
		return board.Record{}, false
	}
	var a assessmentParts
	if !walk(ev.assessment, assessmentReads, assessmentSchema, a.set) || a.scheme == "" || a.year == 0 || a.institution == "" {
		return board.Record{}, false
	}
	var in snapshotParts
	if !walk(a.snapshot, snapshotReads, snapshotSchema, in.set) {
		return board.Record{}, false
	}
	r, ok := d.record(&ev, &a, &in, seq)
	if !ok {
		return board.Record{}, false
	}
	bands, ok := d.bandTable(ev.bands[:ev.nbands])
	if !ok {
		return board.Record{}, false
	}
	r.Bands = bands
	for i, b := range bands {
		if b.Code == r.BandInfo.Code {
			r.BandInfo.Order = i + 1
		}
	}
	gs, ok := d.peerGroups(ev.groups[:ev.ngroups])
	if !ok {
		return board.Record{}, false
	}
	r.Groups, r.Entry.Boards = gs.groups, gs.boardsIn(r.Entry.ProvinceCode)
	return r, true
}

// record is board.FromEvent up to the band table and peer groups; ok false
// where FromEvent refuses the event.
func (d *fastDecoder) record(ev *eventParts, a *assessmentParts, in *snapshotParts, seq uint64) (board.Record, bool) {
	r := board.Record{
		Scheme: a.scheme, Year: a.year, RoundID: a.roundID, SchemeVersion: a.version,
		Institution: a.institution, RoundRevision: ev.roundRevision,
		BandInfo: board.Band{Code: a.bandCode, Label: a.bandLabel, Zone: board.Zone(a.zone)},
	}
	if r.RoundID == "" {
		r.RoundID = d.defaultRoundID(r.Scheme, r.Year)
	}
	r.Entry = board.Entry{
		Revision: a.revision, Band: a.bandCode, Basis: board.Basis(a.basis), Seq: seq,
		Name: in.name, Kind: board.Kind(in.kind), RegionCode: in.region, RegionName: in.regionName,
		ProvinceCode: provinceOf(in.province, in.region), Synthetic: a.synthetic,
	}
	e := &r.Entry
	if e.Revision == 0 {
		e.Revision = seq
	}
	switch {
	case ev.hasTime:
		e.TimeMs = ev.eventTime
	case a.hasRecordTime:
		e.TimeMs = a.recordTime
	}
	precision := ev.precision
	if e.Basis != board.BasisReportedBand {
		if a.total == "" {
			return board.Record{}, false
		}
		if precision < 0 {
			precision = 0
			if i := strings.IndexAny(a.total, ".,"); i >= 0 {
				precision = len(a.total) - i - 1
			}
		}
		u, err := board.EncodeScore(a.total, precision)
		if err != nil {
			return board.Record{}, false
		}
		e.Scored, e.Score = true, u
	}
	if e.Band == "" {
		return board.Record{}, false
	}
	r.Precision = max(precision, 0)
	return r, true
}

// provinceOf is board's provinceOf on the snapshot's two fields.
func provinceOf(province, region string) string {
	if province != "" && province != board.National {
		return province
	}
	if len(region) >= 2 && region[:2] != board.National {
		return region[:2]
	}
	return ""
}

func (d *fastDecoder) defaultRoundID(scheme string, year int32) string {
	if c := &d.roundID; c.scheme != scheme || c.year != year || c.id == "" {
		c.scheme, c.year, c.id = strings.Clone(scheme), year, board.RoundID(scheme, year)
	}
	return d.roundID.id
}

// rawKey is the repeated fields' bytes with their lengths: equal keys are
// equal fields.
func (d *fastDecoder) rawKey(parts [][]byte) []byte {
	d.key = d.key[:0]
	for _, p := range parts {
		d.key = protowire.AppendVarint(d.key, uint64(len(p)))
		d.key = append(d.key, p...)
	}
	return d.key
}

// sameKey reports whether key is rawKey(parts), without building it.
func sameKey(key []byte, parts [][]byte) bool {
	for _, p := range parts {
		n, k := protowire.ConsumeVarint(key)
		if k < 0 || n != uint64(len(p)) || len(key)-k < len(p) || string(key[k:k+len(p)]) != string(p) {
			return false
		}
		key = key[k+len(p):]
	}
	return len(key) == 0
}

// bandTable returns the decoded band table, from the cache when it was
// decoded before. A round has one table: the last one is tried first.
func (d *fastDecoder) bandTable(parts [][]byte) ([]board.Band, bool) {
	if d.lastTable.key != nil && sameKey(d.lastTable.key, parts) {
		return d.lastTable.bands, true
	}
	key := d.rawKey(parts)
	if t, ok := d.tables[string(key)]; ok {
		d.lastTable.key, d.lastTable.bands = append(d.lastTable.key[:0], key...), t
		return t, true
	}
	var bands []board.Band
	for i, p := range parts {
		if !valid(p, bandSchema, 1) {
			return nil, false
		}
		b := board.Band{Order: i + 1}
		if !walk(p, bandReads, bandSchema, func(f wireField) bool {
			switch f.num {
			case bdCode:
				b.Code = string(f.bs)
			case bdLabel:
				b.Label = string(f.bs)
			default:
				b.Zone = board.Zone(int32(f.v))
			}
			return true
		}) {
			return nil, false
		}
		bands = append(bands, b)
	}
	if d.tables == nil || len(d.tables) >= maxCached {
		d.tables = map[string][]board.Band{}
	}
	d.tables[string(key)] = bands
	d.lastTable.key, d.lastTable.bands = append(d.lastTable.key[:0], key...), bands
	return bands, true
}

// groupSet is a decoded set of peer groups, with the boards of its
// institutions per province.
type groupSet struct {
	groups []board.Group
	boards map[string][]string
}

// maxCached bounds the decoder's caches; past it they start again.
const maxCached = 256

// peerGroups returns the decoded peer groups, from the cache when they were
// decoded before.
func (d *fastDecoder) peerGroups(parts [][]byte) (*groupSet, bool) {
	key := d.rawKey(parts)
	if gs, ok := d.groups[string(key)]; ok {
		return gs, true
	}
	var groups []board.Group
	for _, p := range parts {
		if !valid(p, groupSchema, 1) {
			return nil, false
		}
		g, ok := peerGroup(p)
		if !ok {
			return nil, false
		}
		groups = append(groups, g)
	}
	if d.groups == nil || len(d.groups) >= maxCached {
		d.groups = map[string]*groupSet{}
	}
	gs := &groupSet{groups: groups, boards: map[string][]string{}}
	d.groups[string(key)] = gs
	return gs, true
}

// peerGroup decodes one PeerGroup (scopes packed or not, as proto reads
// them).
func peerGroup(b []byte) (board.Group, bool) {
	var g board.Group
	for len(b) > 0 {
		f, rest, ok := next(b)
		if !ok {
			return g, false
		}
		b = rest
		if read, ok := groupReads.wanted(f); !ok {
			return g, false
		} else if read {
			if f.num == pgCode {
				g.Code = string(f.bs)
			} else {
				g.Name = string(f.bs)
			}
			continue
		}
		if f.num != pgScopes {
			continue
		}
		switch f.typ {
		case protowire.VarintType:
			g.Scopes = append(g.Scopes, board.Scope(int32(f.v)))
		case protowire.BytesType:
			if !appendScopes(&g, f.bs) {
				return g, false
			}
		default:
			return g, false
		}
	}
	return g, true
}

func appendScopes(g *board.Group, packed []byte) bool {
	for len(packed) > 0 {
		s, n := protowire.ConsumeVarint(packed)
		if n < 0 {
			return false
		}
		g.Scopes = append(g.Scopes, board.Scope(int32(s)))
		packed = packed[n:]
	}
	return true
}

// boardsIn is the boards of the groups for an institution in province, as
// board.FromEvent lists them (national first).
func (gs *groupSet) boardsIn(province string) []string {
	if ids, ok := gs.boards[province]; ok {
		return ids
	}
	var national, provincial []string
	for _, g := range gs.groups {
		for _, sc := range g.Scopes {
			switch {
			case sc == board.ScopeNational:
				national = append(national, board.ID(g.Code, board.National))
			case sc == board.ScopeProvince && province != "":
				provincial = append(provincial, board.ID(g.Code, province))
			}
		}
	}
	ids := append(national, provincial...)
	gs.boards[strings.Clone(province)] = ids
	return ids
}
