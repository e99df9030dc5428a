// Package annotate explains netlink messages byte by byte: an annotated hex
// dump, each row naming the field or attribute its bytes are and what they
// mean. A Schema describes one protocol family's messages (tcschema.Schema,
// linkschema.Schema); Lines annotates, Dump renders the rows as text, SideBySide
// sets two messages against each other, as the golden tests print a
// mismatch. It is pure: no socket, any GOOS.
package annotate
