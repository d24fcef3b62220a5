// Package importfile turns the CSV files people keep (institution lists,
// published results) into Predikat API requests. It is pure: no network, no
// clock, so every rule about a file can be tested on its own, and the demo
// data is read by exactly the code that reads a user's file.
//
// Every problem is an *Error naming the file, the line and the field, e.g.
//
//	ombudsman-2024.csv:12: total: "96.5.2" is not a decimal number
package importfile

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// Error is a problem with one line (and usually one field) of a file.
type Error struct {
	File  string // as given, e.g. "ombudsman-2024.csv"
	Line  int    // 1-based line in the file; 0 when not about a line
	Field string // column name; "" when about the whole line
	Msg   string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	if e.Field != "" {
		b.WriteString(": " + e.Field)
	}
	b.WriteString(": " + e.Msg)
	return b.String()
}

// Record is one data row of a table, addressed by column name.
type Record struct {
	File   string
	Line   int
	values map[string]string
}

// Get returns the trimmed value of column col ("" when the column is absent).
func (r Record) Get(col string) string { return r.values[col] }

// Has reports whether the file has column col.
func (r Record) Has(col string) bool { _, ok := r.values[col]; return ok }

// Errorf returns an *Error about field col of this record.
func (r Record) Errorf(col, format string, args ...any) *Error {
	return &Error{File: r.File, Line: r.Line, Field: col, Msg: fmt.Sprintf(format, args...)}
}

// Table is the parsed content of a CSV file with a header line.
type Table struct {
	File    string
	Columns []string // as in the header, lower-cased
	Records []Record
	// Faults are the lines that could not be split into the header's
	// columns (ReadTableAll; ReadTable fails on the first).
	Faults []*Error
}

// ReadTable reads a CSV file whose first non-comment line names the columns.
// Column names are matched case-insensitively; every name in required must
// be present, and every column must be in required or optional (a typo in a
// header is an error, not a silently ignored column). Lines starting with
// '#' are comments and blank lines are skipped; line numbers stay those of
// the file. Fields are trimmed. The separator is a comma or a semicolon,
// whichever the header line uses (a spreadsheet saved as CSV in the
// Indonesian locale writes semicolons, so "96,52" needs no quotes there);
// with commas, quote a field that holds one ("96,52").
func ReadTable(file string, r io.Reader, required, optional []string) (*Table, error) {
	t, err := ReadTableAll(file, r, required, optional)
	if err != nil {
		return nil, err
	}
	if len(t.Faults) > 0 {
		return nil, t.Faults[0]
	}
	return t, nil
}

// ReadTableAll reads the table as ReadTable does, but a line that cannot
// be split into the header's columns (a field too many, a stray quote) is
// kept in Faults and the lines after it are still read, so a caller can
// list every problem of the file at once. The error is about the file as
// a whole (unreadable, no header, a bad header).
func ReadTableAll(file string, r io.Reader, required, optional []string) (*Table, error) {
	body, err := io.ReadAll(r)
	if err != nil {
		return nil, &Error{File: file, Msg: err.Error()}
	}
	cr := csv.NewReader(bytes.NewReader(body))
	cr.Comma = Separator(body)
	cr.Comment = '#'
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	t, err := readHeader(cr, file, required, optional)
	if err != nil {
		return nil, err
	}
	for {
		fields, err := cr.Read()
		if err == io.EOF {
			return t, nil
		}
		if err != nil {
			var pe *csv.ParseError
			if !errors.As(err, &pe) {
				return nil, csvError(file, err)
			}
			// The reader goes on with the next line.
			t.Faults = append(t.Faults, csvError(file, err).(*Error))
			continue
		}
		line, _ := cr.FieldPos(0)
		if len(fields) != len(t.Columns) {
			t.Faults = append(t.Faults, &Error{File: file, Line: line, Msg: fmt.Sprintf("%d fields, but the header has %d columns (with commas as separators, quote a field that contains one, e.g. \"96,52\")", len(fields), len(t.Columns))})
			continue
		}
		rec := Record{File: file, Line: line, values: make(map[string]string, len(fields))}
		for i, f := range fields {
			rec.values[t.Columns[i]] = strings.TrimSpace(f)
		}
		t.Records = append(t.Records, rec)
	}
}

// readHeader reads the header line: known, unique, named columns, every
// required one present.
func readHeader(cr *csv.Reader, file string, required, optional []string) (*Table, error) {
	header, err := cr.Read()
	if err == io.EOF {
		return nil, &Error{File: file, Msg: "empty file: the first line must name the columns (" + strings.Join(required, ",") + ")"}
	}
	if err != nil {
		return nil, csvError(file, err)
	}
	t := &Table{File: file}
	seen := map[string]bool{}
	line, _ := cr.FieldPos(0)
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		switch {
		case h == "":
			return nil, &Error{File: file, Line: line, Msg: fmt.Sprintf("header: column %d has no name", i+1)}
		case !slices.Contains(required, h) && !slices.Contains(optional, h):
			return nil, &Error{File: file, Line: line, Msg: fmt.Sprintf("header: unknown column %q (known: %s)", h, strings.Join(append(slices.Clone(required), optional...), ", "))}
		case seen[h]:
			return nil, &Error{File: file, Line: line, Msg: fmt.Sprintf("header: column %q appears twice", h)}
		}
		seen[h] = true
		t.Columns = append(t.Columns, h)
	}
	for _, req := range required {
		if !seen[req] {
			return nil, &Error{File: file, Line: line, Msg: fmt.Sprintf("header: missing column %q (required: %s)", req, strings.Join(required, ", "))}
		}
	}
	return t, nil
}

// Separator is the field separator of a CSV file: ';' when its first line
// that is not a comment holds more semicolons than commas outside quotes,
// ',' otherwise.
func Separator(body []byte) rune {
	for _, line := range strings.Split(string(body), "\n") {
		if t := strings.TrimSpace(line); t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		commas, semis, quoted := 0, 0, false
		for _, c := range line {
			switch {
			case c == '"':
				quoted = !quoted
			case quoted:
			case c == ',':
				commas++
			case c == ';':
				semis++
			}
		}
		if semis > commas {
			return ';'
		}
		return ','
	}
	return ','
}

func csvError(file string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &Error{File: file, Line: pe.Line, Msg: fmt.Sprintf("column %d: %v", pe.Column, pe.Err)}
	}
	return &Error{File: file, Msg: err.Error()}
}
