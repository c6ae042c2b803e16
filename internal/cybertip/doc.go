// Package cybertip reads and writes the XML documents of the
// CyberTipline-compatible ESP API (/ispws): the <report> of /submit, the
// <fileDetails> of /fileinfo and the reportResponse and reportDoneResponse
// answers, and it generates the XSD served at /ispws/xsd.
//
// One declarative table (schema.go) describes every complex type of the
// protocol: element names and order, occurrences, content types,
// attributes, the xs:all annotation sets, the xs:choice groups, the
// enumerations and the length limits, each bound to a field of the domain
// types in package haven. The validator and decoder, the encoder and the
// XSD generator all walk that table, so the schema Haven serves, what it
// accepts and what it exports cannot disagree; the tests run libxml2's
// validator with the generated XSD over the same samples to prove it.
//
// Decoding reads the document into a small element tree with encoding/xml
// under size, depth and element-count caps, refusing DTDs and entities,
// processing instructions and default namespaces; UTF-8, ISO-8859-1 and
// US-ASCII are accepted. The tree is then checked against the table and
// stored into haven.Report or haven.FileDetails in one walk, followed by
// the business rules the schema cannot express (no incident time in the
// future, no classification or potential-meme flag on a supplemental
// file). Every rejection is an *Error whose Code is the protocol's 4110
// (malformed) or 4100 (validation failed) and whose Description names the
// element path, the line, what was found and what was expected, quoting
// at most 80 characters of a value and never a personal one.
//
// Where the schema needed a decision, the table records it:
//
//   - The length limits and ranges that NCMEC documents but its XSD lacks
//     (names, addresses, identifiers, age 0-150, port 1-65535) are facets
//     of the served XSD, so ESPs can check them locally. Latitude and
//     longitude are limited to ±90 and ±180, which also excludes NaN and
//     INF.
//   - xs:dateTime values must have a four-digit year and hour 00-23 (a
//     pattern facet); no zone means UTC. Decoded times are in UTC.
//   - A url may not contain whitespace or control characters (NCMEC
//     rejects them); leading and trailing whitespace is trimmed.
//   - Presence flags are xs:boolean with fixed="true": <x/>, <x>true</x>
//     and <x>1</x> are accepted, false is rejected. NOTE: libxml2 compares
//     fixed values as text and rejects <x>1</x> that XSD 1.0 (and NCMEC's
//     Java validator) allow; the samples checked with xmllint use the two
//     spellings clients send.
//   - Plain strings keep their whitespace, as sent; tokens, enumerations,
//     numbers and dates have it collapsed.
package cybertip
