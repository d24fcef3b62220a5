package certificate

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/go-pdf/fpdf"
	"golang.org/x/text/unicode/norm"
)

// Certificate is what a piagam shows. Only InstitutionName and AwardTitle
// are required; every other field may be empty (an award not yet presented
// has no ceremony and no presenter) and is then left out with its label.
type Certificate struct {
	// AwardID identifies the stored award; the verification code is
	// derived from it.
	AwardID string
	// AwardTitle, e.g. "Predikat Kepatuhan Tinggi Standar Pelayanan Publik".
	AwardTitle string
	// InstitutionName, e.g. "Pemerintah Kabupaten Hulu Sungai Selatan".
	InstitutionName string
	// InstitutionRegion, e.g. "Kabupaten Hulu Sungai Selatan, Kalimantan
	// Selatan".
	InstitutionRegion string
	// SchemeName is the assessment the award comes from.
	SchemeName string
	// Year is the assessment year; 0 leaves it out.
	Year int32
	// Score is already an exact fixed-point decimal ("93.64"), printed as
	// given.
	Score string
	// BandCode and BandLabel, e.g. "A" and "Kualitas Tertinggi".
	BandCode  string
	BandLabel string
	// CeremonyName, CeremonyPlace and CeremonyDate ("YYYY-MM-DD", printed
	// in the Indonesian long form) say where the award was presented.
	CeremonyName  string
	CeremonyPlace string
	CeremonyDate  string
	// PresenterName and PresenterTitle sign the certificate, e.g.
	// "Hasnuryadi Sulaiman" and "Wakil Gubernur Kalimantan Selatan".
	PresenterName  string
	PresenterTitle string
	// VerificationCode is Code(AwardID); left empty, it is derived. A code
	// that is not the award's is refused: a certificate whose code resolves
	// to another award would fail its own verification.
	VerificationCode string
	// VerifyHint tells the reader how to verify, e.g. "Verify with:
	// predikat certificates verify PKT-...".
	VerifyHint string
	// Synthetic marks demo data. Synthetic records never earn awards; a
	// certificate rendered from one anyway carries a banner saying so.
	Synthetic bool
}

// SyntheticBanner is printed across a certificate of synthetic data.
const SyntheticBanner = "DATA SINTETIS / SYNTHETIC — NOT AN AWARD"

// Title heads every certificate.
const Title = "PIAGAM PENGHARGAAN"

// ErrInvalid is wrapped by every refusal to render.
var ErrInvalid = errors.New("invalid certificate")

// Page geometry, in millimetres: A4 landscape.
const (
	pageW = 297.0
	pageH = 210.0
	// textW is the width of the centred body text.
	textW = 235.0
	// footerTop is where the verification and signature blocks start; the
	// body must end above it.
	footerTop = 150.0
)

// Colours (RGB).
var (
	navy   = [3]int{22, 45, 84}
	gold   = [3]int{176, 137, 48}
	ink    = [3]int{33, 33, 33}
	grey   = [3]int{96, 96, 96}
	red    = [3]int{178, 34, 34}
	blush  = [3]int{246, 222, 222}
	white  = [3]int{255, 255, 255}
	maroon = [3]int{122, 28, 28}
)

// Render draws the certificate as a one-page A4 landscape PDF. The same
// Certificate always gives the same bytes: the document dates come from
// the data (the ceremony date, else the first of January of the year), and
// the PDF's internal catalogues are written in a fixed order.
func Render(c Certificate) ([]byte, error) {
	c, err := prepare(c)
	if err != nil {
		return nil, err
	}
	pdf := fpdf.New("L", "mm", "A4", "")
	pdf.SetCatalogSort(true)
	created := documentDate(c)
	pdf.SetCreationDate(created)
	pdf.SetModificationDate(created)
	pdf.SetAutoPageBreak(false, 0)
	pdf.SetMargins(0, 0, 0)
	pdf.SetCellMargin(0)
	pdf.SetLang("id")
	pdf.SetCreator("Predikat", false)
	pdf.SetTitle(Title+": "+c.InstitutionName, true)
	pdf.SetSubject(c.AwardTitle, true)

	p := &page{pdf: pdf, tr: newTranslator(pdf)}
	pdf.AddPage()
	p.frame()
	top := 24.0
	if c.Synthetic {
		p.syntheticMarks()
		top = 30
	}
	if !p.placeBody(c, top) {
		return nil, fmt.Errorf("%w: the text does not fit on one page (shorten the award title or the institution name)", ErrInvalid)
	}
	p.verification(c)
	p.signature(c)

	if err := pdf.Error(); err != nil {
		return nil, fmt.Errorf("render certificate %q: %w", c.AwardID, err)
	}
	var buf bytes.Buffer
	if err := pdf.Output(&buf); err != nil {
		return nil, fmt.Errorf("render certificate %q: %w", c.AwardID, err)
	}
	return buf.Bytes(), nil
}

// prepare checks what must be there, tidies every text field and settles
// the verification code.
func prepare(c Certificate) (Certificate, error) {
	for _, f := range []*string{
		&c.AwardID, &c.AwardTitle, &c.InstitutionName, &c.InstitutionRegion,
		&c.SchemeName, &c.Score, &c.BandCode, &c.BandLabel, &c.CeremonyName,
		&c.CeremonyPlace, &c.CeremonyDate, &c.PresenterName, &c.PresenterTitle,
		&c.VerificationCode, &c.VerifyHint,
	} {
		*f = clean(*f)
	}
	if c.InstitutionName == "" {
		return c, fmt.Errorf("%w: no institution name", ErrInvalid)
	}
	if c.AwardTitle == "" {
		return c, fmt.Errorf("%w: no award title", ErrInvalid)
	}
	if c.Year < 0 {
		return c, fmt.Errorf("%w: year %d", ErrInvalid, c.Year)
	}
	if c.CeremonyDate != "" {
		if _, err := parseDate(c.CeremonyDate); err != nil {
			return c, fmt.Errorf("%w: ceremony %w", ErrInvalid, err)
		}
	}
	code, err := settleCode(c.AwardID, c.VerificationCode)
	if err != nil {
		return c, err
	}
	c.VerificationCode = code
	return c, nil
}

// settleCode returns the code to print: the award's own, whether given or
// derived.
func settleCode(awardID, given string) (string, error) {
	if given == "" {
		if awardID == "" {
			return "", nil
		}
		return Code(awardID), nil
	}
	code, err := ParseCode(given)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if awardID != "" && code != Code(awardID) {
		return "", fmt.Errorf("%w: verification code %s is not the code of award %q", ErrInvalid, code, awardID)
	}
	return code, nil
}

// clean puts text in one canonical form: composed characters (so "e" and a
// combining acute become "é", which cp1252 has), control characters and
// line breaks as spaces, runs of spaces as one, no space at either end.
func clean(s string) string {
	s = norm.NFC.String(s)
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.IsSpace(r) {
			return ' '
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

// documentDate is the PDF's creation date, taken from the data so that
// rendering needs no clock and repeats byte for byte.
func documentDate(c Certificate) time.Time {
	if t, err := parseDate(c.CeremonyDate); err == nil {
		return t
	}
	if c.Year > 0 && c.Year <= 9999 {
		return time.Date(int(c.Year), time.January, 1, 0, 0, 0, 0, time.UTC)
	}
	return time.Date(2000, time.January, 1, 0, 0, 0, 0, time.UTC)
}

// newTranslator turns UTF-8 into the cp1252 bytes the core fonts use, with
// the library's own table. A character cp1252 lacks becomes "?" rather than
// the library's ".", which would read as punctuation inside a name.
func newTranslator(pdf *fpdf.Fpdf) func(string) string {
	toCP1252 := pdf.UnicodeTranslatorFromDescriptor("cp1252")
	return func(s string) string {
		s = strings.Map(func(r rune) rune {
			if r < 0x80 || toCP1252(string(r)) != "." {
				return r
			}
			return '?'
		}, s)
		return toCP1252(s)
	}
}

// scoreLine is "Nilai 93.64 · Kategori A (Kualitas Tertinggi)", or the
// part of it the data has.
func scoreLine(c Certificate) string {
	var parts []string
	if c.Score != "" {
		parts = append(parts, "Nilai "+c.Score)
	}
	switch {
	case c.BandCode != "" && c.BandLabel != "":
		parts = append(parts, "Kategori "+c.BandCode+" ("+c.BandLabel+")")
	case c.BandCode != "":
		parts = append(parts, "Kategori "+c.BandCode)
	case c.BandLabel != "":
		parts = append(parts, "Kategori "+c.BandLabel)
	}
	return strings.Join(parts, "   ·   ")
}

// schemeLine is "<scheme> · Tahun <year>", or the part of it the data has.
func schemeLine(c Certificate) string {
	var parts []string
	if c.SchemeName != "" {
		parts = append(parts, c.SchemeName)
	}
	if c.Year > 0 {
		parts = append(parts, "Tahun "+strconv.Itoa(int(c.Year)))
	}
	return strings.Join(parts, "   ·   ")
}

// ceremonyLines say where and when the award was presented: "Diserahkan
// pada <ceremony>" and "<place>, <date>", or as much as is known.
func ceremonyLines(c Certificate) []string {
	date := ""
	if c.CeremonyDate != "" {
		date, _ = LongDate(c.CeremonyDate) // checked in prepare
	}
	if c.CeremonyName != "" {
		lines := []string{"Diserahkan pada " + c.CeremonyName}
		if where := joinNonEmpty(", ", c.CeremonyPlace, date); where != "" {
			lines = append(lines, where)
		}
		return lines
	}
	switch {
	case c.CeremonyPlace != "" && date != "":
		return []string{"Diserahkan di " + c.CeremonyPlace + ", " + date}
	case c.CeremonyPlace != "":
		return []string{"Diserahkan di " + c.CeremonyPlace}
	case date != "":
		return []string{"Diserahkan pada " + date}
	}
	return nil
}

func joinNonEmpty(sep string, parts ...string) string {
	var kept []string
	for _, p := range parts {
		if p != "" {
			kept = append(kept, p)
		}
	}
	return strings.Join(kept, sep)
}
