package cli

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// progressThreshold is the number of lines above which an import draws a
// progress bar (on a terminal only: logs and pipes get the summary alone).
const progressThreshold = 50

// progress draws "label [#####.....] 120/500  24%  85/s  0:04 left" on
// one terminal line.
type progress struct {
	w           io.Writer
	label       string
	total, done int
	start, last time.Time
	on          bool
	drawn       bool // the cursor is at the end of a drawn bar
}

func newProgress(w io.Writer, enabled bool, label string, total int) *progress {
	return &progress{w: w, label: label, total: total, start: time.Now(), on: enabled && total > progressThreshold}
}

func (p *progress) step() {
	p.done++
	if !p.on {
		return
	}
	if now := time.Now(); p.done == p.total || now.Sub(p.last) >= 100*time.Millisecond {
		p.last, p.drawn = now, true
		fmt.Fprint(p.w, "\r"+progressLine(p.label, p.done, p.total, 30)+rateLine(p.done, p.total, now.Sub(p.start)))
	}
}

// finish ends the bar's line, before any other output and when the import
// ends or stops early; the next step draws the bar again.
func (p *progress) finish() {
	if p.drawn {
		fmt.Fprintln(p.w)
		p.drawn = false
	}
}

func progressLine(label string, done, total, width int) string {
	if total <= 0 {
		total = 1
	}
	filled := done * width / total
	return fmt.Sprintf("%s [%s%s] %d/%d %3d%%", label, strings.Repeat("#", filled), strings.Repeat(".", width-filled), done, total, done*100/total)
}

// rateLine is the rate so far and the time the rest takes at that rate.
func rateLine(done, total int, took time.Duration) string {
	if done == 0 || took <= 0 {
		return ""
	}
	rate := float64(done) / took.Seconds()
	left := time.Duration(float64(total-done) / rate * float64(time.Second)).Round(time.Second)
	return fmt.Sprintf("  %.0f/s  %d:%02d left", rate, int(left.Minutes()), int(left.Seconds())%60)
}
