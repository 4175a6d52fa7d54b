// Package session is the domain of sessionhub: the seed's SessionInfo, its enums,
// the write rules as pure functions, the errors callers test with errors.Is, and
// the few interfaces the stores, the hub and the API agree on. It imports nothing
// of the project and only the standard library.
package session

import (
	"bytes"
	"encoding/json"
	"time"
)

// Info is the seed's SessionInfo, field for field and in the seed's order, so that
// its JSON is wire compatible with EvoVoice: camelCase names, enums as names,
// unset strings, lists and maps omitted, enums and booleans always present.
type Info struct {
	DialState                    DialState            `json:"dialState"`
	CallState                    CallState            `json:"callState"`
	QueueState                   QueueState           `json:"queueState"`
	AccountID                    string               `json:"accountId,omitempty"`
	AccountName                  string               `json:"accountName,omitempty"`
	CustomerID                   string               `json:"customerId,omitempty"`
	CustomerBreadcrumb           []CustomerBreadcrumb `json:"customerBreadcrumb,omitempty"`
	CustomerName                 string               `json:"customerName,omitempty"`
	EndpointID                   string               `json:"endpointId,omitempty"`
	EndpointName                 string               `json:"endpointName,omitempty"`
	DateCompleted                string               `json:"dateCompleted,omitempty"`
	Destination                  string               `json:"destination,omitempty"`
	ToAddress                    string               `json:"toAddress,omitempty"`
	FromAddress                  string               `json:"fromAddress,omitempty"`
	FromName                     string               `json:"fromName,omitempty"`
	AnsweredByName               string               `json:"answeredByName,omitempty"`
	QueueMemberID                string               `json:"queueMemberId,omitempty"`
	Channel                      Channel              `json:"channel"`
	Ended                        bool                 `json:"ended"`
	Outcome                      string               `json:"outcome,omitempty"`
	CallSid                      string               `json:"callSid,omitempty"`
	ConsoleData                  string               `json:"consoleData,omitempty"`
	HoldQueueName                string               `json:"holdQueueName,omitempty"`
	HeldByUserID                 string               `json:"heldByUserId,omitempty"`
	HoldReason                   HoldReason           `json:"holdReason"`
	ConferenceSid                string               `json:"conferenceSid,omitempty"`
	DisplayName                  string               `json:"displayName,omitempty"`
	Log                          []LogEntry           `json:"log,omitempty"`
	Members                      []Member             `json:"members,omitempty"`
	CallbackNumber               string               `json:"callbackNumber,omitempty"`
	AnsweredByID                 string               `json:"answeredById,omitempty"`
	Direction                    Direction            `json:"direction"`
	FromPhoneNumber              string               `json:"fromPhoneNumber,omitempty"`
	MostRecentParticipantCallSid string               `json:"mostRecentParticipantCallSid,omitempty"`
	WasMissed                    bool                 `json:"wasMissed"`
	RingQueueID                  string               `json:"ringQueueId,omitempty"`
	ID                           string               `json:"id,omitempty"`
	DateCreated                  string               `json:"dateCreated,omitempty"`
	DateLastModified             string               `json:"dateLastModified,omitempty"`
	CreatedBy                    string               `json:"createdBy,omitempty"`
	LastModifiedBy               string               `json:"lastModifiedBy,omitempty"`
}

// CustomerBreadcrumb is the seed's CustomerBreadcrumb.
type CustomerBreadcrumb struct {
	ID   string `json:"id,omitempty"`
	Name string `json:"name,omitempty"`
}

// LogEntry is the seed's SessionLogInfo.
type LogEntry struct {
	Date    string `json:"date,omitempty"`
	Message string `json:"message,omitempty"`
}

// Member is the seed's SessionMemberInfo.
type Member struct {
	Identity         string            `json:"identity,omitempty"`
	EndpointID       string            `json:"endpointId,omitempty"`
	DisplayName      string            `json:"displayName,omitempty"`
	IsOriginalMember bool              `json:"isOriginalMember"`
	AvatarURL        string            `json:"avatarUrl,omitempty"`
	ApplicationData  map[string]string `json:"applicationData,omitempty"`
	CallState        MemberCallState   `json:"callState"`
	Role             MemberRole        `json:"role"`
	CallSid          string            `json:"callSid,omitempty"`
	Muted            bool              `json:"muted"`
}

// Versioned is a stored session: its state and the version that state has.
// Version starts at 1 and grows by one with every stored change.
type Versioned struct {
	Version int64
	Info    Info
	// JSON is Info.Marshal() when whoever made v already encoded it (RunUpdate,
	// a store), so a response reuses the bytes the store and its event carry;
	// nil otherwise. It is shared and read-only, and only valid while Info is
	// untouched.
	JSON json.RawMessage
}

// Marshal encodes v's Info as the wire carries it, reusing JSON when present.
func (v Versioned) Marshal() []byte {
	if v.JSON != nil {
		return v.JSON
	}
	return v.Info.Marshal()
}

// TimeLayout is RFC 3339 in UTC with exactly three fractional digits, as the wire
// carries every date (time.RFC3339Nano would drop trailing zeros).
const TimeLayout = "2006-01-02T15:04:05.000Z"

// FormatTime renders t as the wire's date string.
func FormatTime(t time.Time) string { return t.UTC().Format(TimeLayout) }

// ParseTime reads any RFC 3339 date; it is how client-supplied dates are normalised.
func ParseTime(s string) (time.Time, error) { return time.Parse(time.RFC3339Nano, s) }

// Marshal encodes an Info as the wire carries it. Like ServiceStack it leaves
// <, > and & as they are (encoding/json would write \u003c); U+2028 and U+2029
// are still escaped, so the bytes stay safe inside JavaScript.
func (i Info) Marshal() []byte { return MarshalJSON(i) }

// MarshalJSON encodes v compactly without HTML escaping. v must be of a type
// that cannot fail to encode (strings, numbers, bools, slices, string maps).
func MarshalJSON(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic("session: marshal: " + err.Error())
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}
