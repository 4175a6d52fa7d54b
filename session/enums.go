package session

import (
	"fmt"
	"strconv"
	"strings"
)

// enumNames holds the wire names of one enum, in ordinal order; the first is the default.
type enumNames []string

func (n enumNames) name(v int) string {
	if v >= 0 && v < len(n) {
		return n[v]
	}
	return strconv.Itoa(v)
}

// parse accepts a member's name (any case) or its 0-based ordinal.
func (n enumNames) parse(s string) (int, bool) {
	s = strings.TrimSpace(s)
	for i, name := range n {
		if strings.EqualFold(s, name) {
			return i, true
		}
	}
	if i, err := strconv.Atoi(s); err == nil && i >= 0 && i < len(n) {
		return i, true
	}
	return 0, false
}

func (n enumNames) unmarshal(typ string, b []byte) (int, error) {
	s := string(b)
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		u, err := strconv.Unquote(s)
		if err != nil {
			return 0, &EnumError{Type: typ, Value: s, Allowed: n}
		}
		s = u
	} else if s == "" || s == "true" || s == "false" || s[0] == '{' || s[0] == '[' {
		return 0, &EnumError{Type: typ, Value: s, Allowed: n}
	}
	v, ok := n.parse(s)
	if !ok {
		return 0, &EnumError{Type: typ, Value: s, Allowed: n}
	}
	return v, nil
}

// isNull reports a JSON null: by encoding/json's convention an Unmarshaler
// leaves the value unchanged on null, so "callState": null means "absent".
func isNull(b []byte) bool { return string(b) == "null" }

// EnumError reports a value that names no member of an enum.
type EnumError struct {
	Type    string
	Value   string
	Allowed []string
}

func (e *EnumError) Error() string {
	v := e.Value
	if len(v) > 40 {
		v = v[:40] + "..."
	}
	return fmt.Sprintf("%q is not a valid %s; use one of %s (or its 0-based number)", v, e.Type, strings.Join(e.Allowed, ", "))
}

var (
	dialStateNames       = enumNames{"None", "Active"}
	callStateNames       = enumNames{"Disconnected", "Ringing", "Connected", "Hold", "Passive"}
	holdReasonNames      = enumNames{"None", "Transferring"}
	queueStateNames      = enumNames{"None", "Queued", "Ringing", "Connected", "Hold", "Disconnected"}
	channelNames         = enumNames{"Voice", "Chat", "Fax"}
	directionNames       = enumNames{"Incoming", "Outgoing"}
	memberCallStateNames = enumNames{"None", "Ringing", "Connected", "Hold"}
	memberRoleNames      = enumNames{"None", "Caller", "Agent", "Transfer"}
)

// DialState is the seed's SessionDialState.
type DialState int

const (
	DialNone DialState = iota
	DialActive
)

// CallState is the seed's SessionCallState.
type CallState int

const (
	CallDisconnected CallState = iota
	CallRinging
	CallConnected
	CallHold
	CallPassive
)

// HoldReason is the seed's SessionHoldReasons.
type HoldReason int

const (
	HoldNone HoldReason = iota
	HoldTransferring
)

// QueueState is the seed's SessionQueueStates.
type QueueState int

const (
	QueueNone QueueState = iota
	QueueQueued
	QueueRinging
	QueueConnected
	QueueHold
	QueueDisconnected
)

// Channel is the seed's FlowChannels.
type Channel int

const (
	ChannelVoice Channel = iota
	ChannelChat
	ChannelFax
)

// Direction is the seed's SessionDirections.
type Direction int

const (
	DirectionIncoming Direction = iota
	DirectionOutgoing
)

// MemberCallState is the seed's SessionMemberCallState.
type MemberCallState int

const (
	MemberNone MemberCallState = iota
	MemberRinging
	MemberConnected
	MemberHold
)

// MemberRole is the seed's SessionMemberRoles.
type MemberRole int

const (
	RoleNone MemberRole = iota
	RoleCaller
	RoleAgent
	RoleTransfer
)

func (v DialState) String() string       { return dialStateNames.name(int(v)) }
func (v CallState) String() string       { return callStateNames.name(int(v)) }
func (v HoldReason) String() string      { return holdReasonNames.name(int(v)) }
func (v QueueState) String() string      { return queueStateNames.name(int(v)) }
func (v Channel) String() string         { return channelNames.name(int(v)) }
func (v Direction) String() string       { return directionNames.name(int(v)) }
func (v MemberCallState) String() string { return memberCallStateNames.name(int(v)) }
func (v MemberRole) String() string      { return memberRoleNames.name(int(v)) }

func (v DialState) MarshalText() ([]byte, error)       { return []byte(v.String()), nil }
func (v CallState) MarshalText() ([]byte, error)       { return []byte(v.String()), nil }
func (v HoldReason) MarshalText() ([]byte, error)      { return []byte(v.String()), nil }
func (v QueueState) MarshalText() ([]byte, error)      { return []byte(v.String()), nil }
func (v Channel) MarshalText() ([]byte, error)         { return []byte(v.String()), nil }
func (v Direction) MarshalText() ([]byte, error)       { return []byte(v.String()), nil }
func (v MemberCallState) MarshalText() ([]byte, error) { return []byte(v.String()), nil }
func (v MemberRole) MarshalText() ([]byte, error)      { return []byte(v.String()), nil }

func (v *DialState) UnmarshalJSON(b []byte) error {
	if isNull(b) {
		return nil
	}
	i, err := dialStateNames.unmarshal("SessionDialState", b)
	*v = DialState(i)
	return err
}

func (v *CallState) UnmarshalJSON(b []byte) error {
	if isNull(b) {
		return nil
	}
	i, err := callStateNames.unmarshal("SessionCallState", b)
	*v = CallState(i)
	return err
}

func (v *HoldReason) UnmarshalJSON(b []byte) error {
	if isNull(b) {
		return nil
	}
	i, err := holdReasonNames.unmarshal("SessionHoldReasons", b)
	*v = HoldReason(i)
	return err
}

func (v *QueueState) UnmarshalJSON(b []byte) error {
	if isNull(b) {
		return nil
	}
	i, err := queueStateNames.unmarshal("SessionQueueStates", b)
	*v = QueueState(i)
	return err
}

func (v *Channel) UnmarshalJSON(b []byte) error {
	if isNull(b) {
		return nil
	}
	i, err := channelNames.unmarshal("FlowChannels", b)
	*v = Channel(i)
	return err
}

func (v *Direction) UnmarshalJSON(b []byte) error {
	if isNull(b) {
		return nil
	}
	i, err := directionNames.unmarshal("SessionDirections", b)
	*v = Direction(i)
	return err
}

func (v *MemberCallState) UnmarshalJSON(b []byte) error {
	if isNull(b) {
		return nil
	}
	i, err := memberCallStateNames.unmarshal("SessionMemberCallState", b)
	*v = MemberCallState(i)
	return err
}

func (v *MemberRole) UnmarshalJSON(b []byte) error {
	if isNull(b) {
		return nil
	}
	i, err := memberRoleNames.unmarshal("SessionMemberRoles", b)
	*v = MemberRole(i)
	return err
}

// ParseCallState parses a name (any case) or ordinal, as query strings and forms carry it.
func ParseCallState(s string) (CallState, error) {
	i, err := callStateNames.unmarshal("SessionCallState", []byte(strconv.Quote(s)))
	return CallState(i), err
}

// ParseHoldReason parses a name (any case) or ordinal.
func ParseHoldReason(s string) (HoldReason, error) {
	i, err := holdReasonNames.unmarshal("SessionHoldReasons", []byte(strconv.Quote(s)))
	return HoldReason(i), err
}

// ParseQueueState parses a name (any case) or ordinal.
func ParseQueueState(s string) (QueueState, error) {
	i, err := queueStateNames.unmarshal("SessionQueueStates", []byte(strconv.Quote(s)))
	return QueueState(i), err
}

// ParseChannel parses a name (any case) or ordinal.
func ParseChannel(s string) (Channel, error) {
	i, err := channelNames.unmarshal("FlowChannels", []byte(strconv.Quote(s)))
	return Channel(i), err
}

// CallStates lists every SessionCallState name in order.
func CallStates() []string { return append([]string(nil), callStateNames...) }

// QueueStates lists every SessionQueueStates name in order.
func QueueStates() []string { return append([]string(nil), queueStateNames...) }
