// Package uapi holds the Linux UAPI constants that tcwire's pure packages
// (nl, tc, link) encode and decode: message types, attribute numbers,
// flags. golang.org/x/sys/unix has them only when GOOS is linux; these
// build anywhere, so the encoders, decoders and annotated dumps do too.
// Names and values are the kernel headers'; a test checks each against
// unix.
package uapi
