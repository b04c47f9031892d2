// Package registry stores normguard artifacts by model and version: on
// local disk (Local), or on a running `normguard serve` over HTTP (Remote),
// both behind the Store interface, and serves a Store over HTTP (Handler).
//
// A model has immutable versions, each naming one artifact by its digest,
// and a current version that an upload moves unless asked not to. The
// local layout is plain files, so a registry folder can be copied, backed
// up or inspected with ls and cat:
//
//	DIR/blobs/sha256/<hex>.json           artifact bytes, named by the artifact's digest
//	DIR/models/<model>/versions/<v>.json  {"digest": "sha256:<hex>", "created": "..."}
//	DIR/models/<model>/current.json       {"version": "<v>", "updated": "..."}
//
// Every file is written to a temporary file in its folder, synced, renamed
// into place and the folder synced, so a reader (another process
// included) sees the old file or the new one, never a partial one, and a
// crash loses at most the write in flight. Blobs are written before the
// version file that names them, and version files before current.json, so
// every name on disk points at complete bytes. An upload is checked
// against its version before its blob is written, so one refused (another
// artifact under an existing version) leaves no file behind; a blob is
// never removed, as another version may name it. Only when another process
// sharing the folder creates the same version between that check and the
// version file's creation does the losing upload's blob stay.
package registry
