// Package certificate renders the certificate of an award (piagam
// penghargaan) as a one-page A4 landscape PDF, and derives and parses the
// verification code printed on it.
//
// The package is pure: no files, no network, no clock. The same Certificate
// renders to the same bytes, so a rendered PDF can be cached and compared.
//
// # Verification codes
//
// A verification code is printed on every certificate so that a reader can
// check it: they type the code, the service resolves it to the stored award
// (through the public role) and shows that award's true institution, title,
// score and ceremony.
//
// The code is only a lookup key, not a signature, and a hash of the award id
// is enough for that:
//   - Nothing printed on the certificate is trusted. A forged PDF that prints
//     a real code resolves to the real award, whose details the service shows
//     next to the forgery, so the mismatch is visible; a forged PDF with an
//     invented code resolves to nothing.
//   - Awards are public once published, so a code reveals nothing secret and
//     guessing codes gains nothing; there is no key to keep or rotate.
//   - Derived from the award id, the code never has to be stored apart from
//     the award or kept in step with it, and is the same on every re-render.
//
// 60 bits of SHA-256 keep the code short enough to type while collisions
// stay out of reach: among a million awards the chance that two share a code
// is about 4e-7 (n²/2^61), and a service that indexes codes can refuse that
// case outright. The hash input is domain-separated, so the same award id
// hashed for another purpose never yields a certificate code, and versioned,
// so a later scheme cannot be confused with this one. A mistyped code is not
// caught by a check character: it almost surely resolves to nothing, which
// the service reports as such.
package certificate
