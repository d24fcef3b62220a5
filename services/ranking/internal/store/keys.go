package store

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/predikat-id/predikat/services/ranking/internal/board"
)

// Keys outside any layout version.
const (
	LayoutKey = "rk:layout"
	MarkKey   = "rk:rebuild"
)

// Key suffixes under Base (see the layout in the package comment).
const (
	keyGenSeq  = "genseq"
	keySeq     = "seq"
	keyRounds  = "rounds"
	keyYears   = "years:"
	keyPending = "pending"
	keyRound   = ":round" // after the round tag
	// keyFences (after the round tag) maps the round revisions a close
	// replaced to their fences, which never change; they outlive a
	// rebuild's swap of the round. keyFenceCheck holds the fences whose
	// records already applied have not been checked yet.
	keyFences     = ":fences"
	keyFenceCheck = ":fencecheck"
)

// Key suffixes under a generation's prefix.
const (
	genEntries = "e"
	genBoards  = "boards"
	genGroups  = "groups"
	genBands   = "bands"
	genBandMax = "bandmax"
	genZ       = "z:"
	genPop     = "pop:"
)

// Fields of a board's population hash.
const (
	popN         = "n"
	popSum       = "sum"
	popSumSq     = "sumsq"
	popBand      = "b:" // + band code: records in the band
	popReported  = "r:" // + band code: band-only records in the band
	popReportedN = "rn"
	popTime      = "t"
	popSynthetic = "s" // synthetic records among the scored ones
)

// Fields of a round's meta hash, and its states.
const (
	roundGen       = "gen"
	roundState     = "state"
	roundID        = "id"
	roundVersion   = "version"
	roundPrecision = "precision"
	roundScheme    = "scheme"
	roundYear      = "year"

	statePending = "P"
	stateFinal   = "F"
)

// What the scripts answer.
const (
	replyOK       = "OK"
	replyDup      = "DUP"
	replyStale    = "STALE"
	replyNoLayout = "NOLAYOUT"
	replyBusy     = "BUSY"
	replyNoRound  = "NOROUND"
	replyLostMark = "LOSTMARK"
	replyBehind   = "BEHIND"
	replyFenced   = "FENCED"
)

// luaNames are the Go constants the scripts use, by the name they are
// written with in the script sources: {{name}} becomes a quoted Lua string,
// {{#name}} a bare number.
var luaNames = map[string]string{
	"layoutKey": LayoutKey, "markKey": MarkKey,
	"genseq": keyGenSeq, "seq": keySeq, "rounds": keyRounds, "years": keyYears, "pending": keyPending, "round": keyRound,
	"fences": keyFences, "fencecheck": keyFenceCheck,
	"e": genEntries, "boards": genBoards, "groups": genGroups, "bands": genBands, "bandmax": genBandMax, "z": genZ, "pop": genPop,
	"popN": popN, "popSum": popSum, "popSumSq": popSumSq, "popBand": popBand, "popReported": popReported,
	"popReportedN": popReportedN, "popTime": popTime, "popSynthetic": popSynthetic,
	"gen": roundGen, "state": roundState, "id": roundID, "version": roundVersion, "precision": roundPrecision,
	"scheme": roundScheme, "year": roundYear, "pending_state": statePending, "final_state": stateFinal,
	"seqAssessments": SeqAssessments, "seqRounds": SeqRounds,
	"OK": replyOK, "DUP": replyDup, "STALE": replyStale, "NOLAYOUT": replyNoLayout, "BUSY": replyBusy,
	"NOROUND": replyNoRound, "LOSTMARK": replyLostMark, "BEHIND": replyBehind, "FENCED": replyFenced,
	"reportedBand": strconv.Itoa(int(board.BasisReportedBand)),
}

// luaNumbers are the entry field positions the scripts read (1-based, as
// Lua counts).
var luaNumbers = map[string]int{
	"fRevision": fieldRevision + 1, "fScore": fieldScore + 1, "fSumSq": fieldSumSq + 1, "fBand": fieldBand + 1,
	"fBasis": fieldBasis + 1, "fBoards": fieldBoards + 1, "fTime": fieldTime + 1, "fSynthetic": fieldSynthetic + 1,
	"fRead": fieldSynthetic + 1, // how many leading fields the scripts split off
}

// render replaces the {{name}} and {{#name}} placeholders of a script
// source by the constants they name; an unknown name panics at start-up.
func render(src string) string {
	var b strings.Builder
	for {
		i := strings.Index(src, "{{")
		if i < 0 {
			b.WriteString(src)
			return b.String()
		}
		for i+2 < len(src) && src[i+2] == '{' {
			i++ // a Lua table opening on a placeholder: "{{{OK}}, ...}"
		}
		j := strings.Index(src[i:], "}}")
		if j < 0 {
			panic("unterminated placeholder in a ranking script")
		}
		b.WriteString(src[:i])
		name := src[i+2 : i+j]
		if n, ok := strings.CutPrefix(name, "#"); ok {
			v, found := luaNumbers[n]
			if !found {
				panic(fmt.Sprintf("ranking script: unknown number {{#%s}}", n))
			}
			b.WriteString(strconv.Itoa(v))
		} else {
			v, found := luaNames[name]
			if !found {
				panic(fmt.Sprintf("ranking script: unknown name {{%s}}", name))
			}
			b.WriteString("'" + v + "'")
		}
		src = src[i+j+2:]
	}
}
