// Package lab is the victim-identification analysts' workboard of
// unidentified series and the redacted lab (PRODUCT.md P5).
//
// Workboard. A series is known by its code: the SeriesID of hash entries.
// Every report file matched to an entry of a series (of a positive bank)
// is a sighting of it. The workboard lists the series not yet identified
// (when an Identified function is set; otherwise every series), the most
// recently sighted first so that active production rises to the top; a
// series' page lists its sightings, newest first, each with the clues
// gathered from its report: where it was placed (internal/geo's
// report_locations), the ESP that sent it, the report's language, its
// dates (incident, received) and the identifiers it shares with other
// reports (internal/identifiers). Analysts with haven.PermSeriesManage add
// findings and mark a sighting, or one of its clues, as a lead with a
// note. Reads need haven.PermSeriesRead. Every read and write is audited;
// audit details carry IDs and clue keys, never an identifier's value.
//
// Lab. An analyst with haven.PermLabSanitise opens a series file's working
// image: the original, decoded server-side and reduced (colour, at most
// Options.MaxSide pixels, no blur, because the point is to show rooms,
// objects and clothing), made in memory for that response and never
// stored. In the browser they draw rectangles over the child; the server
// makes the reduced picture again, fills the rectangles with MaskColour,
// and stores the result through custody, encrypted, as a sanitised
// rendition linked to the file and series, with its masks. Once the
// analyst has checked it and publishes it, partners with
// haven.PermLabView (law-enforcement users) may browse it under /le/lab
// by series code, without any report or victim data; each view is
// audited. Only sanitised renditions are served to partners, and only
// once published: anything else answers the same haven.ErrNotFound as an
// ID that does not exist, and the refusal is audited.
package lab
