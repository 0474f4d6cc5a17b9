package meter

import "github.com/hotscript/hotscript/internal/clip"

// CutNames returns wasm, a module Scan accepted, with the module name and the
// function names of its name section cut to at most limit bytes (at a
// character's start) and marked cut with "…": an engine writes these names in
// every frame of a stack trace, so that a module naming its functions with
// megabytes would make every trap's error megabytes long, thirty times over.
// The other sections, and the other subsections of the name section, are
// copied as they are; a name section that does not decode is dropped, as
// engines ignore what they cannot read.
func CutNames(wasm []byte, limit int) ([]byte, error) {
	secs, err := splitSections(wasm)
	if err != nil {
		return nil, err
	}
	out := append(make([]byte, 0, len(wasm)), header...)
	for _, s := range secs {
		body := s.body
		if s.id == secCustom && s.name == "name" {
			if body = cutNames(s, limit); body == nil {
				continue
			}
		}
		out = appendSection(out, s.id, body)
	}
	return out, nil
}

// cutNames is the body of name section s with its traced names cut (see
// CutNames), or nil if it does not decode.
func cutNames(s section, limit int) []byte {
	return rewriteNames(s, func(id byte, sub *reader, body []byte) []byte {
		switch id {
		case nameModule:
			return appendName(nil, clip.String(sub.name(), limit))
		case nameFunctions:
			n := sub.count(2)
			body = AppendULEB(nil, uint64(n))
			for i := 0; i < n && sub.err == nil; i++ {
				body = AppendULEB(body, uint64(sub.u32()))
				body = appendName(body, clip.String(sub.name(), limit))
			}
		}
		return body
	})
}
