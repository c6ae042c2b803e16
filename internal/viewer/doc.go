// Package viewer is Haven's safe viewer (SECURITY.md 31–33): what an
// analyst or an agency user sees of a report's files, and the care taken
// of them while they look.
//
// Renditions. Each image file gets a server-made rendition: reduced so its
// longer side is at most 320 pixels, greyscale, and blurred by three box
// passes of radius 1/20 of that side, so that no face, body or text can be
// recognised; a video gets a strip of up to eight such frames, sampled
// evenly by ffmpeg reading the decrypted bytes from a pipe (or, for a
// container that needs seeking, from memory over a loopback connection
// that lives for one run): no clear copy ever touches a disk. Renditions
// are evidence too: they are stored through custody, encrypted, as items
// linked to the file (table renditions), and their making is audited.
// Images are decoded by internal/pdq, which refuses a picture declaring
// too many pixels before decoding it and survives decoder panics.
//
// Renditions are made lazily, on the first view of a file's page, one at a
// time per file and at most Options.Workers at once; the job
// RenditionArgs (see EnqueueRendition) makes one ahead of time for a
// pipeline that wants to. Lazy making derives nothing from files nobody
// opens, and never from known material or gated files. Nothing is derived
// from the files of a report still open either (its submitter may retract
// it, and intake then destroys its files); and once an original is
// destroyed, neither it nor its rendition is shown again.
//
// Reveal. The original is sent only under a reveal grant: a POST with a
// reason (required, at most MaxReason characters), audited as
// "media.reveal" with the reason as its purpose, that lets the same user
// in the same session fetch the original for GrantTTL. Revealing needs a
// sign-in within the last five minutes (SECURITY.md 11). Each fetch of
// the original is audited again ("media.original").
//
// Exposure. A reveal starts an exposure interval; the page's script sends
// a heartbeat every 15 seconds while the original is on screen and
// unblurred, and a stop when it blurs (window blur, tab hidden, a minute
// idle) or closes. An interval without heartbeats counts its first minute.
// A daily budget (default 5 h, UTC days) and a break rule (after 60
// minutes of exposure without a 10-minute gap, a 10-minute break) refuse
// further reveals with a kind explanation, audited. Supervisors see the
// figures per person per day (ExposureReport), never content.
//
// Without JavaScript, the revealed original starts blurred by CSS and is
// shown only while its "show the original" checkbox is ticked; nothing
// re-blurs it on focus loss, and its exposure counts one minute.
//
// Known material. A file with an exact-hash match, or a confirmed
// perceptual match, to a live entry of a positive bank gets no rendition
// and cannot be revealed: its page says which bank classified it
// (SECURITY.md 33). The banks are also asked about the file's exact hashes
// at each view, so a file is withheld even before its matching job ran.
//
// Legal gate. When Options.LegalGate is set (HAVEN_LEGAL_GATE=true), a
// file whose ESP said it did NOT view it (ViewedByESP false) and did not
// say it was publicly available gets no rendition and cannot be revealed,
// to staff or agencies, until a supervisor records a legal authority (a
// warrant's reference, issuer and date; audited). US deployments should
// enable it: under United States v. Wilson (9th Cir. 2021) and
// United States v. Ackerman (10th Cir. 2016), a hotline opening a file the
// provider did not view may be a warrantless search.
//
// Access. Staff need haven.PermViewRendition and haven.PermReveal;
// law-enforcement users too, and reach a file only if its report was
// referred to their agency (SetAgencyAccess). Anyone else gets the same
// haven.ErrNotFound as for a file that does not exist, and the refusal is
// audited.
package viewer
