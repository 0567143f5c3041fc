package imap

import "strings"

// extCaps lists the extensions offered once logged in (RFC 9051 section
// 7.2.2: the list may grow after authentication). Each word is wired in
// this branch: QUOTA (cmd_quota.go), METADATA (cmd_metadata.go), SORT and
// THREAD (cmd_sort.go), COMPRESS=DEFLATE (cmd_compress.go; omitted once
// compression is on, RFC 4978 section 3).
func extCaps(s *session) string {
	caps := []string{quotaCaps, metadataCaps, sortCaps}
	if !s.compressed {
		caps = append(caps, compressCaps)
	}
	return strings.Join(caps, " ")
}
