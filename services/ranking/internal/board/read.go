package board

// What the store reads for a query, one consistent step each: the raw
// material the application layer turns into answers.

// Round is what a round's meta hash says.
type Round struct {
	Scheme    string
	Year      int32
	ID        string
	Version   string
	Precision int
	Final     bool
	Gen       string
}

// Standing is an institution's record in one round and its place on each of
// its boards.
type Standing struct {
	Round  Round
	Found  bool // the institution has a record in the round
	Entry  Entry
	Band   Band
	Boards []BoardStanding
	// Previous round of the scheme (PrevYear 0 when none).
	PrevYear  int32
	PrevRound Round
	PrevEntry *Entry
}

// BoardStanding is the institution's place on one board, now and in the
// previous round.
type BoardStanding struct {
	ID        string
	Group     Group
	Count     int64
	Higher    int64 // entries with a strictly better score
	Lower     int64 // entries with a strictly lower score
	UpdateMs  int64
	PrevCount int64
	PrevRank  int64 // 0 when not on the previous board
}

// TiePage is one leaderboard page's raw material: whole tie groups from the
// cursor on.
type TiePage struct {
	Round    Round
	Group    *Group // nil when the round has no such peer group
	Count    int64
	UpdateMs int64
	Ties     []Tie
	Below    int64 // entries under the last tie group fetched
	Bands    map[string]Band
}

// Tie is every entry sharing one score, with its competition rank.
type Tie struct {
	Score   int64
	Rank    int64
	Members []string
	Entries []Entry // same order as Members
}

// BoardStats is one board's statistics' raw material.
type BoardStats struct {
	Round          Round
	Group          *Group
	Count          int64
	Stats          Stats
	Min, Max       int64
	LowMid, HighMd int64
	BandCounts     map[string]int64
	ReportedCounts map[string]int64
	ReportedTotal  int64
	Synthetic      int64 // synthetic records among those counted
	Bands          map[string]Band
	BandMax        map[string]int64
	UpdateMs       int64
}

// BoardInfo is one board of a round.
type BoardInfo struct {
	ID       string
	Group    Group
	Count    int64
	UpdateMs int64
}
