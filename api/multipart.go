package api

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"strconv"
)

// maxFormParts bounds the parts of a multipart/form-data body, so that a body
// of many tiny parts cannot cost more than its size suggests.
const maxFormParts = 1000

// multipartPairs reads the text fields of a multipart/form-data body (what
// `curl -F name=value` sends, and ServiceStack binds like any other form) as
// name, value, name, value ... in order. File parts are skipped: no field of
// this API is a file. The body is already bounded by the request limit.
func multipartPairs(body []byte, boundary string) ([]string, error) {
	if boundary == "" {
		return nil, errors.New("the Content-Type has no boundary parameter")
	}
	if !bytes.Contains(body, []byte("--"+boundary)) {
		// multipart.Reader would skip it all as preamble and find no field.
		return nil, errors.New("the body does not contain its boundary")
	}
	r := multipart.NewReader(bytes.NewReader(body), boundary)
	var out []string
	for n := 0; ; n++ {
		p, err := r.NextPart()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, errors.New("a part is malformed; check the boundary and the part headers")
		}
		if n >= maxFormParts {
			return nil, fmt.Errorf("more than %d parts", maxFormParts)
		}
		name := p.FormName()
		if name == "" || p.FileName() != "" {
			continue
		}
		v, err := io.ReadAll(p)
		if err != nil {
			return nil, fmt.Errorf("part %s is malformed", strconv.Quote(truncate(name, 40)))
		}
		out = append(out, name, string(v))
	}
}
