package session

import (
	"reflect"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Limits bounds what a write may store. Zero fields take the defaults of DESIGN §2.
type Limits struct {
	MaxConsoleData int // bytes of consoleData; default 64 KiB
	MaxLogMessage  int // bytes of one log message; default 4 KiB
	MaxLogEntries  int // newest entries a session keeps; default 200
	MaxIDLength    int // characters of a session or account id; default 128
}

// Defaults fills the zero fields of l.
func (l Limits) Defaults() Limits {
	if l.MaxConsoleData <= 0 {
		l.MaxConsoleData = 64 << 10
	}
	if l.MaxLogMessage <= 0 {
		l.MaxLogMessage = 4 << 10
	}
	if l.MaxLogEntries <= 0 {
		l.MaxLogEntries = 200
	}
	if l.MaxIDLength <= 0 {
		l.MaxIDLength = 128
	}
	return l
}

// FormatSuffixes are the path suffixes that always select a response format
// (ServiceStack's): an id may not end in one, or its path could not reach it.
var FormatSuffixes = []string{".json", ".xml", ".jsv", ".csv", ".html"}

// ValidID reports whether s may name a session or an account: 1 to max characters
// of [A-Za-z0-9._:@-], not ending in a format suffix such as ".json".
func ValidID(s string, max int) bool {
	if s == "" || len(s) > max {
		return false
	}
	lower := strings.ToLower(s)
	for _, suf := range FormatSuffixes {
		if strings.HasSuffix(lower, suf) {
			return false
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '.', c == '_', c == ':', c == '@', c == '-':
		default:
			return false
		}
	}
	return true
}

// CheckID returns a ValidationError naming field when id is not a valid id.
func CheckID(field, id string, lim Limits) error {
	lim = lim.Defaults()
	if id == "" {
		return Invalid(field, CodeRequired, "'%s' must not be empty.", field)
	}
	if !ValidID(id, lim.MaxIDLength) {
		return Invalid(field, CodeInvalid, "'%s' must be 1 to %d characters of A-Z a-z 0-9 . _ : @ - and must not end in a format suffix (.json, .xml, .jsv, .csv, .html).", field, lim.MaxIDLength)
	}
	return nil
}

// Mutation changes a copy of the current state; now is the write's time as the
// wire formats it. The write rules run after it.
type Mutation func(cur *Info, now string) error

// Patch is the seed's PATCH: nil fields are left unchanged.
type Patch struct {
	ConsoleData *string
	CallState   *CallState
	HoldReason  *HoldReason
	QueueState  *QueueState
}

// Empty reports whether p sets nothing.
func (p Patch) Empty() bool {
	return p.ConsoleData == nil && p.CallState == nil && p.HoldReason == nil && p.QueueState == nil
}

// Mutation returns the change p makes.
func (p Patch) Mutation() Mutation {
	return func(cur *Info, _ string) error {
		if p.ConsoleData != nil {
			cur.ConsoleData = *p.ConsoleData
		}
		if p.CallState != nil {
			if *p.CallState == CallHold && cur.CallState != CallHold && p.HoldReason == nil {
				cur.HoldReason = HoldNone
			}
			cur.CallState = *p.CallState
		}
		if p.HoldReason != nil {
			cur.HoldReason = *p.HoldReason
		}
		if p.QueueState != nil {
			cur.QueueState = *p.QueueState
		}
		return nil
	}
}

// Replace is the PUT full-state write: every field comes from in, so a field it
// omits is reset to its default; id, accountId, dateCreated and createdBy never change.
func Replace(in Info) Mutation {
	return func(cur *Info, _ string) error {
		keep := *cur
		*cur = in.Clone()
		cur.ID, cur.AccountID, cur.DateCreated, cur.CreatedBy = keep.ID, keep.AccountID, keep.DateCreated, keep.CreatedBy
		cur.DateLastModified, cur.LastModifiedBy = keep.DateLastModified, keep.LastModifiedBy
		return nil
	}
}

// AppendLog adds one entry to the session's log.
func AppendLog(message string) Mutation {
	return func(cur *Info, now string) error {
		if strings.TrimSpace(message) == "" {
			return Invalid("Message", CodeRequired, "'Message' must not be empty.")
		}
		cur.Log = append(cur.Log, LogEntry{Date: now, Message: message})
		return nil
	}
}

// End is DELETE: a PATCH to Disconnected.
func End() Mutation {
	d := CallDisconnected
	return Patch{CallState: &d}.Mutation()
}

// Cond is a write's precondition, from If-Match. The zero Cond is unconditional.
type Cond struct {
	Version int64 // the version the caller holds; 0 means none
}

// New prepares a session for its first store: validates it and applies the
// write rules as if it came from nothing. The caller has set ID (a UUID when the
// request named none) and the call state (Ringing when the request named none).
func New(in Info, actor string, now time.Time, lim Limits) (Info, error) {
	lim = lim.Defaults()
	ts := FormatTime(now)
	s := in.Clone()
	v := &ValidationError{}
	if err := CheckID("Id", s.ID, lim); err != nil {
		v.Fields = append(v.Fields, err.(*ValidationError).Fields...)
	}
	if err := CheckID("AccountId", s.AccountID, lim); err != nil {
		v.Fields = append(v.Fields, err.(*ValidationError).Fields...)
	}
	validate(&s, lim, v)
	if s.HoldReason != HoldNone && s.CallState != CallHold {
		v.Add("HoldReason", CodeInvalid, "'HoldReason' can only be %s while 'CallState' is Hold.", s.HoldReason)
	}
	if err := v.Err(); err != nil {
		return Info{}, err
	}
	s.DateCreated, s.DateLastModified = ts, ts
	s.CreatedBy, s.LastModifiedBy = actor, actor
	if s.CallState == CallHold {
		s.HeldByUserID = actor
	} else {
		s.HeldByUserID = ""
	}
	if s.CallState == CallDisconnected {
		s.Ended = true
	}
	if s.Ended && s.DateCompleted == "" {
		s.DateCompleted = ts
	}
	trimLog(&s, lim)
	return s, nil
}

// Apply runs m on cur and then the write rules of DESIGN §2. It returns the next
// state and the camelCase names of the fields that changed; no changed field
// means the write changes nothing and must store nothing (rule 1).
func Apply(cur Info, m Mutation, actor string, now time.Time, lim Limits) (Info, []string, error) {
	lim = lim.Defaults()
	ts := FormatTime(now)
	next := cur.Clone()
	if err := m(&next, ts); err != nil {
		return cur, nil, err
	}
	v := &ValidationError{}
	validate(&next, lim, v)
	if err := v.Err(); err != nil {
		return cur, nil, err
	}

	// Rule 2: hold.
	switch {
	case next.CallState == CallHold && cur.CallState != CallHold:
		next.HeldByUserID = actor
	case next.CallState != CallHold && cur.CallState == CallHold:
		next.HoldReason, next.HeldByUserID = HoldNone, ""
	case next.CallState != CallHold && next.HoldReason != HoldNone:
		return cur, nil, Errorf(ErrConflict, "holdReason can only be %s while the call is on Hold; the call is %s.", next.HoldReason, next.CallState)
	}
	// Rule 4: an ended session's call and queue states are final.
	if cur.Ended {
		switch {
		case next.CallState != cur.CallState:
			return cur, nil, Errorf(ErrConflict, "session %s has ended: its callState can no longer change (consoleData stays writable).", cur.ID)
		case next.QueueState != cur.QueueState:
			return cur, nil, Errorf(ErrConflict, "session %s has ended: its queueState can no longer change (consoleData stays writable).", cur.ID)
		case !next.Ended:
			return cur, nil, Errorf(ErrConflict, "session %s has ended and cannot be reopened; create a new session.", cur.ID)
		}
	}
	// Rule 3: disconnecting ends the session.
	if next.CallState == CallDisconnected && cur.CallState != CallDisconnected {
		next.Ended = true
	}
	if next.Ended && next.DateCompleted == "" {
		// A PUT that omits it must not move an ended session's completion time.
		next.DateCompleted = ts
		if cur.Ended && cur.DateCompleted != "" {
			next.DateCompleted = cur.DateCompleted
		}
	}
	// Rule 5: one log entry per write that moves the call, queue or hold state.
	var moves []string
	if cur.CallState != next.CallState {
		moves = append(moves, "callState "+cur.CallState.String()+" -> "+next.CallState.String())
	}
	if cur.QueueState != next.QueueState {
		moves = append(moves, "queueState "+cur.QueueState.String()+" -> "+next.QueueState.String())
	}
	if cur.HoldReason != next.HoldReason {
		moves = append(moves, "holdReason "+cur.HoldReason.String()+" -> "+next.HoldReason.String())
	}
	if len(moves) > 0 {
		next.Log = append(next.Log, LogEntry{Date: ts, Message: strings.Join(moves, ", ") + " (by " + actor + ")"})
	}
	trimLog(&next, lim)

	// Rule 1: nothing changed, nothing stored.
	changed := Diff(cur, next)
	if len(changed) == 0 {
		return cur, nil, nil
	}
	// Rule 6. These are the last two fields that can change, so appending them
	// keeps changed in the seed's order without a second Diff.
	next.DateLastModified, next.LastModifiedBy = ts, actor
	changed = slices.DeleteFunc(changed, func(f string) bool { return f == "dateLastModified" || f == "lastModifiedBy" })
	if next.DateLastModified != cur.DateLastModified {
		changed = append(changed, "dateLastModified")
	}
	if next.LastModifiedBy != cur.LastModifiedBy {
		changed = append(changed, "lastModifiedBy")
	}
	return next, changed, nil
}

// validate checks limits and normalises dates and empty collections in place.
func validate(s *Info, lim Limits, v *ValidationError) {
	if len(s.ConsoleData) > lim.MaxConsoleData {
		v.Add("ConsoleData", CodeTooLong, "'ConsoleData' is %d bytes; the limit is %d.", len(s.ConsoleData), lim.MaxConsoleData)
	}
	if s.DateCompleted != "" {
		if d, ok := normalTime(s.DateCompleted); !ok {
			v.Add("DateCompleted", CodeInvalid, "'DateCompleted' must be an RFC 3339 date such as 2026-11-26T16:21:44.120Z.")
		} else {
			s.DateCompleted = d
		}
	}
	for i := range s.Log {
		e := &s.Log[i]
		if len(e.Message) > lim.MaxLogMessage {
			v.Add("Log", CodeTooLong, "log entry %d is %d bytes; the limit is %d.", i, len(e.Message), lim.MaxLogMessage)
		}
		if e.Date != "" {
			if d, ok := normalTime(e.Date); !ok {
				v.Add("Log", CodeInvalid, "log entry %d: 'Date' must be an RFC 3339 date.", i)
			} else {
				e.Date = d
			}
		}
	}
	for _, f := range []struct {
		name string
		val  *string
	}{{"ConsoleData", &s.ConsoleData}} {
		if !utf8.ValidString(*f.val) {
			v.Add(f.name, CodeInvalid, "'%s' must be valid UTF-8.", f.name)
		}
	}
	if len(s.Log) == 0 {
		s.Log = nil
	}
	if len(s.Members) == 0 {
		s.Members = nil
	}
	if len(s.CustomerBreadcrumb) == 0 {
		s.CustomerBreadcrumb = nil
	}
	for i := range s.Members {
		if len(s.Members[i].ApplicationData) == 0 {
			s.Members[i].ApplicationData = nil
		}
	}
}

// normalTime returns date s as FormatTime writes it, or false when s is not an
// RFC 3339 date. A date already in that form comes back as it is, unformatted:
// every write validates the whole log (up to 200 stored, already normal dates),
// and formatting them again was most of a PATCH's cost.
func normalTime(s string) (string, bool) {
	t, err := ParseTime(s)
	switch {
	case err != nil:
		return "", false
	case isWireTime(s):
		return s, true
	}
	return FormatTime(t), true
}

// isWireTime reports whether s has TimeLayout's shape: 2006-01-02T15:04:05.000Z.
// A date of that shape that parses is what FormatTime makes of it.
func isWireTime(s string) bool {
	if len(s) != len(TimeLayout) {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch c := TimeLayout[i]; {
		case c >= '0' && c <= '9':
			if s[i] < '0' || s[i] > '9' {
				return false
			}
		case s[i] != c:
			return false
		}
	}
	return true
}

func trimLog(s *Info, lim Limits) {
	if n := len(s.Log) - lim.MaxLogEntries; n > 0 {
		s.Log = append([]LogEntry(nil), s.Log[n:]...)
	}
}

// Clone returns a deep copy of i, so a mutation never touches stored state.
func (i Info) Clone() Info {
	c := i
	c.CustomerBreadcrumb = append([]CustomerBreadcrumb(nil), i.CustomerBreadcrumb...)
	c.Log = append([]LogEntry(nil), i.Log...)
	if i.Members != nil {
		c.Members = make([]Member, len(i.Members))
		for k, m := range i.Members {
			if m.ApplicationData != nil {
				ad := make(map[string]string, len(m.ApplicationData))
				for key, val := range m.ApplicationData {
					ad[key] = val
				}
				m.ApplicationData = ad
			}
			c.Members[k] = m
		}
	}
	return c
}

var infoFields = func() []string {
	t := reflect.TypeOf(Info{})
	names := make([]string, t.NumField())
	for k := range names {
		tag := t.Field(k).Tag.Get("json")
		names[k], _, _ = strings.Cut(tag, ",")
	}
	return names
}()

// Diff lists, in the seed's order, the camelCase names of the fields that differ
// between a and b. Empty and nil collections are equal.
func Diff(a, b Info) []string {
	va, vb := reflect.ValueOf(a), reflect.ValueOf(b)
	var out []string
	for k, name := range infoFields {
		fa, fb := va.Field(k), vb.Field(k)
		if fa.Kind() == reflect.Slice && fa.Len() == 0 && fb.Len() == 0 {
			continue
		}
		if !reflect.DeepEqual(fa.Interface(), fb.Interface()) {
			out = append(out, name)
		}
	}
	return out
}
