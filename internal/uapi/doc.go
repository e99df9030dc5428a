// Package uapi holds the Linux UAPI constants that tcwire's pure packages
// (nl, tc, link) encode and decode: message types, attribute numbers,
// flags. golang.org/x/sys/unix has (most of) them only when GOOS is
// linux; these build anywhere, so the encoders, decoders and annotated
// dumps do too. Names and values are the kernel headers'; a test checks
// each that unix has against it. Being internal, they are no part of
// tcwire's API: tc exports only the constants a caller passes or reads
// (controls, eactions, protocols, handles, u32 selector flags).
package uapi
