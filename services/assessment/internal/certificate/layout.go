package certificate

import (
	"github.com/go-pdf/fpdf"
)

// page draws on one certificate page. Every text goes through tr, so the
// core fonts receive cp1252.
type page struct {
	pdf *fpdf.Fpdf
	tr  func(string) string
	// dry measures without drawing: the body is laid out once to learn its
	// height, then drawn centred in the space above the footer.
	dry bool
}

// style is a font and a colour.
type style struct {
	family string
	font   string // "", "B", "I", "BI"
	size   float64
	color  [3]int
}

func (p *page) use(s style) {
	p.pdf.SetFont(s.family, s.font, s.size)
	p.pdf.SetTextColor(s.color[0], s.color[1], s.color[2])
}

// lineHeight is the leading for a font size in points, in millimetres.
func lineHeight(size float64) float64 {
	return size * 0.3528 * 1.25
}

// fit chooses the largest size, from s.size down to minSize, at which text
// takes at most maxLines lines of width w, preferring one line as long as
// the size stays above three quarters of s.size. It returns the style and
// the translated lines.
func (p *page) fit(text string, s style, minSize, w float64, maxLines int) (style, []string) {
	enc := []byte(p.tr(text))
	try := func(size float64, lines int) ([]string, bool) {
		p.pdf.SetFont(s.family, s.font, size)
		split := p.pdf.SplitLines(enc, w)
		out := make([]string, len(split))
		for i, l := range split {
			out[i] = string(l)
		}
		return out, len(out) <= lines
	}
	for size := s.size; size >= s.size*0.75; size -= 0.5 {
		if lines, ok := try(size, 1); ok {
			s.size = size
			return s, lines
		}
	}
	for size := s.size; size >= minSize; size -= 0.5 {
		if lines, ok := try(size, maxLines); ok {
			s.size = size
			return s, lines
		}
	}
	// Longer than any certificate text should be: keep every line at the
	// smallest size; Render refuses the page if it runs into the footer.
	lines, _ := try(minSize, maxLines)
	s.size = minSize
	return s, lines
}

// centred writes text centred on the page from y, wrapping and shrinking it
// to fit, and returns the y below it.
func (p *page) centred(text string, s style, minSize float64, maxLines int, y float64) float64 {
	if text == "" {
		return y
	}
	s, lines := p.fit(text, s, minSize, textW, maxLines)
	h := lineHeight(s.size)
	if p.dry {
		return y + h*float64(len(lines))
	}
	p.use(s)
	for _, l := range lines {
		p.pdf.SetXY((pageW-textW)/2, y)
		p.pdf.CellFormat(textW, h, l, "", 0, "C", false, 0, "")
		y += h
	}
	return y
}

// block writes text left-aligned or centred in a box of width w at x.
func (p *page) block(text string, s style, x, y, w float64, align string, maxLines int) float64 {
	if text == "" {
		return y
	}
	s, lines := p.fit(text, s, s.size*0.7, w, maxLines)
	p.use(s)
	h := lineHeight(s.size)
	for _, l := range lines {
		p.pdf.SetXY(x, y)
		p.pdf.CellFormat(w, h, l, "", 0, align, false, 0, "")
		y += h
	}
	return y
}

// frame draws the double border and the corner ornaments.
func (p *page) frame() {
	pdf := p.pdf
	pdf.SetDrawColor(navy[0], navy[1], navy[2])
	pdf.SetLineWidth(1.6)
	pdf.Rect(8, 8, pageW-16, pageH-16, "D")
	pdf.SetDrawColor(gold[0], gold[1], gold[2])
	pdf.SetLineWidth(0.5)
	pdf.Rect(12, 12, pageW-24, pageH-24, "D")
	for _, c := range [][2]float64{{12, 12}, {pageW - 12, 12}, {12, pageH - 12}, {pageW - 12, pageH - 12}} {
		pdf.SetFillColor(gold[0], gold[1], gold[2])
		pdf.Circle(c[0], c[1], 2.2, "F")
	}
}

// syntheticMarks puts a red banner across the top and a pale diagonal
// watermark behind the text, so a certificate of synthetic data cannot be
// mistaken for an award even in a cropped or faded copy.
func (p *page) syntheticMarks() {
	pdf := p.pdf
	p.use(style{"Helvetica", "B", 54, blush})
	pdf.TransformBegin()
	pdf.TransformRotate(20, pageW/2, pageH/2)
	w := pdf.GetStringWidth(p.tr("DATA SINTETIS"))
	pdf.Text((pageW-w)/2, pageH/2+8, p.tr("DATA SINTETIS"))
	pdf.TransformEnd()

	pdf.SetFillColor(red[0], red[1], red[2])
	pdf.Rect(16, 15, pageW-32, 11, "F")
	p.use(style{"Helvetica", "B", 14, white})
	pdf.SetXY(16, 15)
	pdf.CellFormat(pageW-32, 11, p.tr(SyntheticBanner), "", 0, "CM", false, 0, "")
}

// placeBody lays the body out between top and the footer, centred in the
// space there is (up to a limit, so a short text stays near the title), and
// reports whether it fits.
func (p *page) placeBody(c Certificate, top float64) bool {
	p.dry = true
	height := p.body(c, 0)
	p.dry = false
	free := footerTop - top - height
	if free < 0 {
		return false
	}
	p.body(c, top+min(free/2, 12))
	return true
}

// body writes the title, the institution, the award, the score and the
// ceremony, from y down, and returns where it ends.
func (p *page) body(c Certificate, y float64) float64 {
	y = p.centred(Title, style{"Times", "B", 34, navy}, 34, 1, y)
	if !p.dry {
		p.pdf.SetDrawColor(gold[0], gold[1], gold[2])
		p.pdf.SetLineWidth(0.8)
		p.pdf.Line(pageW/2-45, y+2, pageW/2+45, y+2)
	}
	y += 6

	y = p.centred("diberikan kepada", style{"Times", "I", 14, grey}, 14, 1, y)
	y = p.centred(c.InstitutionName, style{"Times", "B", 25, ink}, 16, 2, y+1.5)
	y = p.centred(c.InstitutionRegion, style{"Helvetica", "", 13, grey}, 10, 2, y)

	y = p.centred("atas capaian", style{"Times", "I", 14, grey}, 14, 1, y+3)
	y = p.centred(c.AwardTitle, style{"Times", "B", 20, maroon}, 14, 2, y+1)
	y = p.centred(schemeLine(c), style{"Helvetica", "", 12, ink}, 10, 2, y+1)
	y = p.centred(scoreLine(c), style{"Helvetica", "B", 15, navy}, 12, 1, y+2)

	lines := ceremonyLines(c)
	if len(lines) > 0 {
		y += 3
	}
	for _, l := range lines {
		y = p.centred(l, style{"Helvetica", "", 11, ink}, 9, 2, y)
	}
	return y
}

// verification writes the code, the award id and the hint at the bottom
// left.
func (p *page) verification(c Certificate) {
	if c.VerificationCode == "" && c.AwardID == "" && c.VerifyHint == "" {
		return
	}
	const x, w = 22.0, 130.0
	y := 163.0
	if c.VerificationCode != "" {
		y = p.block("Kode verifikasi / Verification code", style{"Helvetica", "", 9, grey}, x, y, w, "L", 1)
		y = p.block(c.VerificationCode, style{"Courier", "B", 16, navy}, x, y+0.5, w, "L", 1)
	}
	if c.AwardID != "" {
		y = p.block("ID penghargaan: "+c.AwardID, style{"Helvetica", "", 8, grey}, x, y+1, w, "L", 2)
	}
	p.block(c.VerifyHint, style{"Helvetica", "", 8, grey}, x, y+0.5, w, "L", 2)
}

// signature writes the presenter's title, a line to sign on and the
// presenter's name at the bottom right; with no presenter there is nothing
// to sign and nothing is drawn.
func (p *page) signature(c Certificate) {
	if c.PresenterName == "" && c.PresenterTitle == "" {
		return
	}
	const x, w = 180.0, 95.0
	y := 156.0
	y = p.block(c.PresenterTitle, style{"Helvetica", "", 11, ink}, x, y, w, "C", 2)
	lineY := 186.0
	if y+14 > lineY {
		lineY = y + 14
	}
	p.pdf.SetDrawColor(ink[0], ink[1], ink[2])
	p.pdf.SetLineWidth(0.3)
	p.pdf.Line(x+10, lineY, x+w-10, lineY)
	p.block(c.PresenterName, style{"Helvetica", "B", 12, ink}, x, lineY+1, w, "C", 2)
}
