package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"os"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
	"github.com/sessionhub/sessionhub/session"
)

// input is one request's fields from every source, by lower-case name, as
// ServiceStack binds them: JSON body, then query string, then form body, each
// overriding the one before; names match case-insensitively.
type input struct {
	values map[string]value
}

// value is one field's raw JSON (from a JSON body) or text (query string, form).
type value struct {
	raw    json.RawMessage
	text   string
	isText bool
}

// has reports whether the request set name (lower case) to something other than null.
func (in *input) has(name string) bool {
	v, ok := in.values[name]
	if !ok {
		return false
	}
	if v.isText {
		return v.text != ""
	}
	return !isNull(v.raw)
}

func isNull(raw json.RawMessage) bool { return string(bytes.TrimSpace(raw)) == "null" }

// readInput reads c's body (at most max bytes) and query string.
func readInput(c *gin.Context, max int64) (*input, error) {
	body, err := readBody(c, max)
	if err != nil {
		return nil, err
	}
	return parseInput(c.GetHeader("Content-Type"), body, c.Request.URL.RawQuery)
}

// readBody reads the whole body, refusing more than max bytes with errTooLarge.
func readBody(c *gin.Context, max int64) ([]byte, error) {
	r := c.Request
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	if r.ContentLength > max {
		return nil, newError(errTooLarge, "the request body is %d bytes; the limit is %d.", r.ContentLength, max)
	}
	r.Body = http.MaxBytesReader(c.Writer, r.Body, max)
	b, err := io.ReadAll(r.Body)
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return nil, newError(errTooLarge, "the request body is over the limit of %d bytes.", max)
	case isTimeout(err):
		return nil, newError(errTimeout, "the request body did not arrive in time; send it again, whole.")
	case err != nil:
		return nil, newError(errBadRequest, "the request body could not be read; send it again.")
	}
	return b, nil
}

// isTimeout reports a read that hit its deadline.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

// parseInput gathers the fields of a request from its Content-Type header, body
// and raw query string. A body without a Content-Type is read as JSON.
func parseInput(contentType string, body []byte, rawQuery string) (*input, error) {
	in := &input{values: map[string]value{}}
	var form []string
	if len(bytes.TrimSpace(body)) > 0 {
		mediaType, params := "", map[string]string(nil)
		if strings.TrimSpace(contentType) != "" {
			mt, ps, err := mime.ParseMediaType(contentType)
			if err != nil {
				return nil, newError(errBadRequest, "the Content-Type header %s cannot be read; send application/json or application/x-www-form-urlencoded.", strconv.Quote(truncate(contentType, 60)))
			}
			mediaType, params = mt, ps
		}
		switch {
		case mediaType == "", mediaType == "application/json", mediaType == "text/json", strings.HasSuffix(mediaType, "+json"):
			if !utf8.Valid(body) {
				// encoding/json would quietly turn the bad bytes into U+FFFD.
				return nil, newError(errBadRequest, "the request body is not valid UTF-8; send JSON text encoded as UTF-8.")
			}
			if err := in.addJSON(body); err != nil {
				return nil, err
			}
		case mediaType == "application/x-www-form-urlencoded":
			if t := bytes.TrimSpace(body); t[0] == '{' || t[0] == '[' {
				// curl -d sends JSON as a form unless told otherwise; binding it as
				// a form would bind nothing and answer 200 with nothing changed.
				return nil, newError(errBadRequest, "the body looks like JSON but Content-Type is application/x-www-form-urlencoded (curl -d sends that by default); send Content-Type: application/json.")
			}
			pairs, err := queryPairs(string(body))
			if err != nil {
				return nil, newError(errBadRequest, "the form body is not valid application/x-www-form-urlencoded: %s", err)
			}
			form = pairs
		case mediaType == "multipart/form-data":
			pairs, err := multipartPairs(body, params["boundary"])
			if err != nil {
				return nil, newError(errBadRequest, "the multipart/form-data body cannot be read: %s", err)
			}
			form = pairs
		default:
			return nil, newError(errUnsupportedMedia, "Content-Type %s is not supported; send application/json, application/x-www-form-urlencoded or multipart/form-data.", strconv.Quote(truncate(mediaType, 60)))
		}
	}
	query, err := queryPairs(rawQuery)
	if err != nil {
		return nil, newError(errBadRequest, "the query string is malformed: %s", err)
	}
	in.addText(query)
	in.addText(form)
	return in, nil
}

// addJSON adds the top-level members of a JSON object body, in order.
func (in *input) addJSON(body []byte) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	tok, err := dec.Token()
	if err != nil {
		return jsonError(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return newError(errBadRequest, `the request body must be a JSON object such as {"callState":"Hold"}.`)
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return jsonError(err)
		}
		key, _ := tok.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return jsonError(err)
		}
		in.values[strings.ToLower(key)] = value{raw: raw}
	}
	if _, err := dec.Token(); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return newError(errBadRequest, "the request body holds more than one JSON value; send one object.")
	}
	return nil
}

func jsonError(err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return newError(errBadRequest, "the request body is not valid JSON (at byte %d): %s.", se.Offset, se.Error())
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return newError(errBadRequest, "the request body is not valid JSON: it ends too early.")
	}
	return newError(errBadRequest, "the request body is not valid JSON.")
}

// addText adds name/value pairs from a query string or form; later ones win.
func (in *input) addText(pairs []string) {
	for i := 0; i+1 < len(pairs); i += 2 {
		in.values[strings.ToLower(pairs[i])] = value{text: pairs[i+1], isText: true}
	}
}

// queryPairs decodes a query string into name, value, name, value ..., in order,
// so that repeated names resolve the same way every time.
func queryPairs(raw string) ([]string, error) {
	var out []string
	for raw != "" {
		var part string
		part, raw, _ = strings.Cut(raw, "&")
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		key, err := url.QueryUnescape(k)
		if err != nil {
			return nil, errors.New("bad escape in a name")
		}
		val, err := url.QueryUnescape(v)
		if err != nil {
			return nil, errors.New("bad escape in the value of " + strconv.Quote(truncate(key, 40)))
		}
		out = append(out, key, val)
	}
	return out, nil
}

// fieldKind says how text from a query string or form becomes JSON.
type fieldKind int

const (
	kindString fieldKind = iota // quoted
	kindEnum                    // quoted; the enum reads names and ordinals
	kindBool                    // true/false
	kindJSON                    // lists, maps, numbers: the text is JSON
)

// field is one bindable field of a request type.
type field struct {
	index  int
	pascal string // the DTO's name, as errors report it
	kind   fieldKind
}

// fieldTable maps lower-case wire names to a struct's fields.
type fieldTable struct {
	typ    reflect.Type
	names  []string // lower-case wire names in struct order, so errors come in a stable order
	fields map[string]field
}

var unmarshalerType = reflect.TypeFor[json.Unmarshaler]()

// tableOf builds the field table of struct type t from its json tags.
func tableOf(t reflect.Type) *fieldTable {
	ft := &fieldTable{typ: t, fields: map[string]field{}}
	for i := range t.NumField() {
		sf := t.Field(i)
		name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
		if name == "" || name == "-" {
			continue
		}
		et := sf.Type
		if et.Kind() == reflect.Pointer {
			et = et.Elem()
		}
		kind := kindJSON
		switch {
		case reflect.PointerTo(et).Implements(unmarshalerType) && et.Kind() == reflect.Int:
			kind = kindEnum
		case et.Kind() == reflect.String:
			kind = kindString
		case et.Kind() == reflect.Bool:
			kind = kindBool
		}
		ft.names = append(ft.names, strings.ToLower(name))
		ft.fields[strings.ToLower(name)] = field{index: i, pascal: strings.ToUpper(name[:1]) + name[1:], kind: kind}
	}
	return ft
}

// bind sets the fields of dst (a pointer to ft's struct) that the request names.
// Unknown names are ignored; null (and empty text for non-strings) leaves a field
// as it is. Every bad field is reported, by its PascalCase name.
func (in *input) bind(dst any, ft *fieldTable) error {
	rv := reflect.ValueOf(dst).Elem()
	if rv.Type() != ft.typ {
		panic("api: bind: table for " + ft.typ.String() + " used with " + rv.Type().String())
	}
	verr := &session.ValidationError{}
	for _, name := range ft.names {
		v, ok := in.values[name]
		if !ok {
			continue
		}
		f := ft.fields[name]
		data := []byte(v.raw)
		if v.isText {
			if !utf8.ValidString(v.text) {
				// json.Marshal would quietly turn the bad bytes into U+FFFD.
				verr.Add(f.pascal, session.CodeInvalid, "'%s' is not valid UTF-8; percent-encode the UTF-8 bytes of the text.", f.pascal)
				continue
			}
			switch {
			case f.kind == kindString:
				data = mustMarshal(v.text)
			case v.text == "":
				continue
			case f.kind == kindEnum:
				data = mustMarshal(v.text)
			case f.kind == kindBool:
				b, err := strconv.ParseBool(strings.TrimSpace(v.text))
				if err != nil {
					verr.Add(f.pascal, session.CodeInvalid, "'%s' must be true or false.", f.pascal)
					continue
				}
				data = strconv.AppendBool(nil, b)
			default:
				data = []byte(v.text)
			}
		} else if isNull(v.raw) {
			continue
		}
		if err := json.Unmarshal(data, rv.Field(f.index).Addr().Interface()); err != nil {
			addFieldError(verr, f, err)
		}
	}
	return verr.Err()
}

// addFieldError explains why a field's value could not be read.
func addFieldError(verr *session.ValidationError, f field, err error) {
	var ee *session.EnumError
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &ee):
		verr.Add(f.pascal, session.CodeEnum, "'%s' is invalid: %s", f.pascal, ee.Error())
	case errors.As(err, &te) && f.kind != kindJSON:
		want := map[fieldKind]string{kindString: "a string", kindBool: "true or false", kindEnum: "a name or a number"}[f.kind]
		verr.Add(f.pascal, session.CodeInvalid, "'%s' must be %s, not %s.", f.pascal, want, withArticle(te.Value))
	case errors.As(err, &te):
		verr.Add(f.pascal, session.CodeInvalid, "'%s' has the wrong type: %s where %s belongs.", f.pascal, withArticle(te.Value), jsonPath(f.pascal, te.Field))
	case errors.As(err, &se):
		verr.Add(f.pascal, session.CodeInvalid, "'%s' must be JSON (at byte %d: %s).", f.pascal, se.Offset, se.Error())
	default:
		verr.Add(f.pascal, session.CodeInvalid, "'%s' could not be read.", f.pascal)
	}
}

func jsonPath(top, inner string) string {
	if inner == "" {
		return "'" + top + "'"
	}
	return "'" + top + "." + inner + "'"
}

// patchRequest is the seed's PATCH body: nil means unchanged. The path names
// the session, so a sessionId in the body is ignored.
type patchRequest struct {
	ConsoleData *string             `json:"consoleData"`
	CallState   *session.CallState  `json:"callState"`
	HoldReason  *session.HoldReason `json:"holdReason"`
	QueueState  *session.QueueState `json:"queueState"`
}

// logRequest is POST /sessions/{sessionId}/log.
type logRequest struct {
	Message *string `json:"message"`
}

var (
	patchTable = tableOf(reflect.TypeFor[patchRequest]())
	logTable   = tableOf(reflect.TypeFor[logRequest]())
	infoTable  = tableOf(reflect.TypeFor[session.Info]())
)

// bindPatch reads a PATCH: only the seed's fields, checked against lim.
func bindPatch(in *input, lim session.Limits) (session.Patch, error) {
	var r patchRequest
	if err := in.bind(&r, patchTable); err != nil {
		return session.Patch{}, err
	}
	lim = lim.Defaults()
	if r.ConsoleData != nil && len(*r.ConsoleData) > lim.MaxConsoleData {
		return session.Patch{}, session.Invalid("ConsoleData", session.CodeTooLong, "'ConsoleData' is %d bytes; the limit is %d.", len(*r.ConsoleData), lim.MaxConsoleData)
	}
	return session.Patch{ConsoleData: r.ConsoleData, CallState: r.CallState, HoldReason: r.HoldReason, QueueState: r.QueueState}, nil
}

// bindLog reads a log append's message.
func bindLog(in *input, lim session.Limits) (string, error) {
	var r logRequest
	if err := in.bind(&r, logTable); err != nil {
		return "", err
	}
	lim = lim.Defaults()
	switch {
	case r.Message == nil || strings.TrimSpace(*r.Message) == "":
		return "", session.Invalid("Message", session.CodeRequired, "'Message' must not be empty.")
	case len(*r.Message) > lim.MaxLogMessage:
		return "", session.Invalid("Message", session.CodeTooLong, "'Message' is %d bytes; the limit is %d.", len(*r.Message), lim.MaxLogMessage)
	}
	return *r.Message, nil
}

// bindInfo reads a whole SessionInfo (POST create, PUT).
func bindInfo(in *input, lim session.Limits) (session.Info, error) {
	var s session.Info
	if err := in.bind(&s, infoTable); err != nil {
		return session.Info{}, err
	}
	lim = lim.Defaults()
	if len(s.ConsoleData) > lim.MaxConsoleData {
		return session.Info{}, session.Invalid("ConsoleData", session.CodeTooLong, "'ConsoleData' is %d bytes; the limit is %d.", len(s.ConsoleData), lim.MaxConsoleData)
	}
	return s, nil
}
