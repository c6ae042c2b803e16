// Package hashlist reads and writes the hash-list formats Haven imports
// and exports: its own CSV, the NCMEC hash-sharing feed XML, and VICS-style
// (Project VIC) JSON.
//
// # Streaming
//
// Readers never load a whole file. ReadCSV, ReadNCMEC and ReadVICS return
// an iter.Seq2[Record, error] that yields one record at a time:
//
//   - (rec, nil) for an accepted record;
//   - (Record{}, *RecordError) for a rejected one, with the line where it
//     starts and a reason; the stream goes on with the next record, so an
//     import can report rejected rows and continue;
//   - (Record{}, err) with a *haven.Error for a fatal problem (bad header,
//     broken XML or JSON structure, DOCTYPE, unreadable input, a cap
//     reached), after which the stream ends. Use IsRecordError to tell
//     them apart.
//
// Options caps each reader: MaxRecords (records, good or rejected),
// MaxElementBytes (one CSV record, one XML token or entry element, one
// JSON array element; a few KiB of read-ahead slack are allowed) and
// MaxBytes (the whole input). Exceeding a cap is a fatal KindTooLarge
// error. Every accepted record satisfies Record.Validate: at most one hash
// per algorithm, digests of the algorithm's size (MD5 16 bytes, SHA-1 20,
// SHA-256 and PDQ 32; vPDQ and PhotoDNA any non-empty length), text fields
// of at most 200 characters without control characters or surrounding
// spaces (readers trim cells), classification scheme and code both given
// or both empty, media type "image", "video" or "", and at least one hash
// unless the record is a deletion with an external id. Hashes come out in
// the order of haven.HashAlgos.
//
// Writers (WriteCSV, WriteNCMEC, WriteVICS) take an iter.Seq[Record],
// write as they go, and stop with an error at the first record that is
// invalid or that the format cannot express; what the format has no place
// for (listed per format below) is left out.
//
// # CSV (Haven's own format)
//
// UTF-8 (a leading BOM is ignored), RFC 4180 quoting, comma-separated. The
// first row is a header naming the columns, in any order and case; each at
// most once; an unknown column refuses the file. Columns:
//
//	md5, sha1, sha256, pdq, vpdq, photodna
//	    the hashes, all in hexadecimal (either case; written lower case).
//	    Fixed-size algorithms must have exactly twice their digest size in
//	    characters (pdq: 64). vPDQ and PhotoDNA are opaque byte strings,
//	    also hex — base64 is not accepted, so that every hash column reads
//	    the same way.
//	classification_scheme, classification_code
//	series
//	viral, potential_meme, deleted
//	    booleans: true/false, 1/0, yes/no (any case); empty is false.
//	external_id
//	media_type
//	    image, video or empty.
//
// The header must name at least one hash column or external_id. Every row
// must have as many fields as the header; an empty cell is an absent
// value. A row with deleted=true is a deletion instruction and may carry
// only external_id. Rejected rows are reported with the line where they
// start. WriteCSV writes all columns in the order above.
//
// # NCMEC hash-sharing feed XML
//
// This is the shape Haven reads; adjust when the feed's specification is
// available:
//
//	<?xml version="1.0" encoding="UTF-8"?>
//	<queryResult>
//	  <images>
//	    <image>
//	      <member id="42">Example ESP</member>
//	      <id>123</id>
//	      <classification>A1</classification>
//	      <fingerprints>
//	        <md5>…32 hex…</md5>
//	        <sha1>…40 hex…</sha1>
//	        <pdq>…64 hex…</pdq>
//	      </fingerprints>
//	    </image>
//	  </images>
//	  <videos>
//	    <video>…same children…</video>
//	  </videos>
//	  <deletedEntries>
//	    <image><member id="42"/><id>99</id></image>
//	    <video><member id="42"/><id>98</id></video>
//	  </deletedEntries>
//	</queryResult>
//
// The root must be queryResult. Its images, videos and deletedEntries
// sections may repeat and come in any order (WriteNCMEC opens a new section
// whenever the kind of record changes, so it can stream). Unknown elements
// are skipped, within the element cap. Each entry becomes one Record:
// ExternalID is the member id attribute + ":" + id (both required; the
// member id may not contain a colon), MediaType is "image" or "video",
// classification A1, A2, B1 or B2 becomes Scheme "industry", any other
// non-empty code Scheme "ncmec" with the code as given; each fingerprint
// is optional but at most once, and a non-deleted entry needs at least
// one. Entries under deletedEntries become records with Deleted set.
// Member names, series, viral and potential-meme flags are not carried
// (WriteNCMEC leaves them out; it refuses hashes other than MD5, SHA-1 and
// PDQ and schemes other than "industry" and "ncmec").
//
// The document is parsed with encoding/xml token streaming: Decoder.Token
// down to each entry, DecodeElement for the entry, so memory is bounded by
// the element cap. DOCTYPE and any other directive end the stream; only
// the five predefined entities are known, so an entity reference is a
// fatal syntax error; the encoding must be UTF-8. Broken XML is fatal
// because the stream cannot resynchronise. Line numbers are those of the
// entry's start tag.
//
// # VICS-style JSON (Project VIC)
//
// An OData-style JSON object whose "value" member is an array of flat
// media objects; other members (such as "odata.metadata") are skipped:
//
//	{"odata.metadata": "…", "value": [
//	  {"MediaID": 1, "MD5": "…", "SHA1": "…", "Category": 1,
//	   "Series": "…", "IsPrecategorized": true},
//	  …
//	]}
//
// Per element Haven reads (member names case-insensitive, others ignored):
// MediaID (an integer or a non-empty string; it becomes ExternalID),
// Category (a whole number ≥ 0; missing or null is 0), MD5, SHA1, SHA256
// (hex), PhotoDNA (standard base64, as VICS carries it) and Series.
// Options.VICSCategories (DefaultVICSCategories when nil) maps category
// numbers to classifications; a number missing from the table becomes
// {Scheme: "vics", Code: "<number>"}. The default table maps 0
// (uncategorised) to no classification. The document is streamed with
// json.Decoder.Token down to the array and Decode per element; a
// malformed element (wrong types, bad hash) is a RecordError, broken JSON
// syntax is fatal. Line numbers are those where the element starts.
// WriteVICS writes the reverse mapping (the smallest category the table
// maps to the classification, else the number of a "vics" code); it
// refuses deletions, records without ExternalID and PDQ/vPDQ hashes, and
// leaves out viral, potential-meme and media type. A MediaID that is a
// canonical 64-bit integer is written as a number, anything else as a
// string.
package hashlist
