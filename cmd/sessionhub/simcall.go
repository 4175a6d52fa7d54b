package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/sessionhub/sessionhub/session"
)

// errStopped means the simulation ended while a call was in progress.
var errStopped = errors.New("simulation stopped")

// simCall is one simulated call: it plays a script of REST writes with pauses
// like a person's, keeping the session as the hub last returned it.
type simCall struct {
	sim     *simulator
	r       *rand.Rand
	account string
	info    session.Info
	etag    string
}

// path is the session's REST path.
func (c *simCall) path() string { return "/sessions/" + url.PathEscape(c.info.ID) }

// pause waits a human-like while (min to max seconds, scaled by --speed), or
// returns errStopped when the simulation ends first.
func (c *simCall) pause(min, max float64) error {
	secs := min + c.r.Float64()*(max-min)
	d := time.Duration(secs / c.sim.cfg.Speed * float64(time.Second))
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-c.sim.stop:
		return errStopped
	}
}

// chance is true with probability p.
func (c *simCall) chance(p float64) bool { return c.r.Float64() < p }

// keep records the hub's answer as the call's current state.
func (c *simCall) keep(info session.Info, etag string) {
	if info.ID != "" {
		c.info, c.etag = info, etag
	}
}

func (c *simCall) patch(ctx context.Context, p patchBody) error {
	info, etag, err := c.sim.api.do(ctx, http.MethodPatch, c.path(), "", p)
	c.keep(info, etag)
	return err
}

func (c *simCall) log(ctx context.Context, msg string) error {
	info, etag, err := c.sim.api.do(ctx, http.MethodPost, c.path()+"/log", "", map[string]string{"message": msg})
	c.keep(info, etag)
	return err
}

// put is the telephony side's full-state write: it changes a copy of the last
// known state and sends it with If-Match, so a note an agent typed in between is
// never overwritten; on 412 it reloads and tries again.
func (c *simCall) put(ctx context.Context, change func(*session.Info)) error {
	for attempt := 0; ; attempt++ {
		next := c.info.Clone()
		change(&next)
		info, etag, err := c.sim.api.do(ctx, http.MethodPut, c.path(), c.etag, next)
		if statusOf(err) == http.StatusPreconditionFailed && attempt < 3 {
			info, etag, err = c.sim.api.do(ctx, http.MethodGet, c.path(), "", nil)
			if err != nil {
				return err
			}
			c.keep(info, etag)
			continue
		}
		c.keep(info, etag)
		return err
	}
}

// play runs the call from ring to hang-up. When the simulation stops midway the
// call hangs up at once, so no session is left ringing on the board.
func (c *simCall) play(ctx context.Context) (err error) {
	s := c.sim
	if err := c.create(ctx); err != nil {
		return err
	}
	s.stats.active.Add(1)
	defer func() {
		s.stats.active.Add(-1)
		if errors.Is(err, errStopped) {
			s.stats.hungUp.Add(1)
			_, _, err = s.api.do(ctx, http.MethodDelete, c.path(), "", nil)
		} else if err != nil {
			// Something failed midway: end the session rather than leave it hanging.
			_, _, _ = s.api.do(ctx, http.MethodDelete, c.path(), "", nil)
		}
		if err == nil {
			s.stats.ended.Add(1)
		}
	}()
	if c.info.Direction == session.DirectionOutgoing {
		return c.playOutgoing(ctx)
	}
	return c.playIncoming(ctx)
}

// create POSTs the new session: ringing, with the caller as its first member.
func (c *simCall) create(ctx context.Context) error {
	r := c.r
	line := pick(r, lines)
	cust := pick(r, companies)
	custID := fmt.Sprintf("cust-%04d", r.IntN(10000))
	caller := personName(r)
	number := phone(r)
	in := session.Info{
		DialState:   session.DialActive,
		CallState:   session.CallRinging,
		AccountID:   c.account,
		AccountName: accountName(c.account),
		CustomerID:  custID,
		CustomerBreadcrumb: []session.CustomerBreadcrumb{
			{ID: "org-" + c.account, Name: accountName(c.account)},
			{ID: custID, Name: cust},
		},
		CustomerName:   cust,
		EndpointID:     line.id,
		EndpointName:   line.name,
		HoldQueueName:  line.queue + " hold",
		RingQueueID:    "rq-" + line.id[3:],
		CallbackNumber: number,
		DisplayName:    caller,
	}
	switch {
	case c.chance(0.2):
		agent := pick(r, agentNames)
		in.Direction = session.DirectionOutgoing
		in.Destination, in.ToAddress = number, number
		in.FromAddress, in.FromName = "+18005550100", accountName(c.account)
		in.AnsweredByName, in.AnsweredByID = agent, "ep-"+agentID(agent)
		in.CallSid = hexID(r, "CA")
		in.Members = []session.Member{
			{Identity: "client:" + agentID(agent), EndpointID: "ep-" + agentID(agent), DisplayName: agent,
				IsOriginalMember: true, CallState: session.MemberConnected, Role: session.RoleAgent, CallSid: in.CallSid},
			{Identity: number, DisplayName: caller, CallState: session.MemberRinging, Role: session.RoleCaller, CallSid: hexID(r, "CA")},
		}
	case c.chance(0.15):
		in.Channel = session.ChannelChat
		in.Direction = session.DirectionIncoming
		in.FromPhoneNumber, in.FromAddress, in.FromName = number, number, caller
		in.Destination = line.name
		in.Members = []session.Member{{Identity: number, DisplayName: caller, IsOriginalMember: true,
			CallState: session.MemberConnected, Role: session.RoleCaller}}
	default:
		in.Direction = session.DirectionIncoming
		in.FromAddress, in.FromName = number, caller
		in.ToAddress, in.Destination = "+18005550100", "+18005550100"
		in.CallSid = hexID(r, "CA")
		in.Members = []session.Member{{Identity: number, DisplayName: caller, IsOriginalMember: true,
			CallState: session.MemberConnected, Role: session.RoleCaller, CallSid: in.CallSid}}
	}
	info, etag, err := c.sim.api.do(ctx, http.MethodPost, "/sessions", "", in)
	if err != nil {
		return err
	}
	c.sim.stats.started.Add(1)
	c.keep(info, etag)
	return nil
}

// playIncoming: IVR, queue, an agent answers (or the caller gives up), notes,
// maybe a hold or a transfer, then the end and perhaps a wrap-up note.
func (c *simCall) playIncoming(ctx context.Context) error {
	voice := c.info.Channel == session.ChannelVoice
	if err := c.pause(0.5, 2); err != nil {
		return err
	}
	if voice {
		if err := c.log(ctx, "IVR: caller pressed "+pick(c.r, ivrChoices)); err != nil {
			return err
		}
	}
	if err := c.patch(ctx, patchBody{QueueState: ptr(session.QueueQueued)}); err != nil {
		return err
	}
	if err := c.pause(2, 12); err != nil {
		return err
	}
	if c.chance(0.1) {
		// The caller gives up in the queue: a missed call.
		c.sim.stats.missed.Add(1)
		return c.put(ctx, func(s *session.Info) {
			s.CallState, s.QueueState, s.WasMissed, s.Outcome = session.CallDisconnected, session.QueueDisconnected, true, "Abandoned in queue"
			s.Members = nil
		})
	}
	agent := pick(c.r, agentNames)
	if err := c.put(ctx, func(s *session.Info) {
		s.CallState, s.QueueState = session.CallConnected, session.QueueConnected
		s.AnsweredByName, s.AnsweredByID = agent, "ep-"+agentID(agent)
		s.QueueMemberID = "qm-" + agentID(agent)
		if voice {
			s.ConferenceSid = hexID(c.r, "CF")
			s.MostRecentParticipantCallSid = hexID(c.r, "CA")
		}
		s.Members = append(s.Members, session.Member{Identity: "client:" + agentID(agent), EndpointID: "ep-" + agentID(agent),
			DisplayName: agent, CallState: session.MemberConnected, Role: session.RoleAgent, CallSid: s.MostRecentParticipantCallSid})
	}); err != nil {
		return err
	}
	if err := c.talk(ctx, agent); err != nil {
		return err
	}
	if voice && c.chance(0.3) {
		if err := c.hold(ctx); err != nil {
			return err
		}
	}
	if voice && c.chance(0.15) {
		if err := c.transfer(ctx, agent); err != nil {
			return err
		}
	}
	if err := c.pause(2, 8); err != nil {
		return err
	}
	return c.end(ctx)
}

// playOutgoing: an agent dials out, the customer answers, they talk, it ends.
func (c *simCall) playOutgoing(ctx context.Context) error {
	if err := c.pause(2, 6); err != nil {
		return err
	}
	if err := c.put(ctx, func(s *session.Info) {
		s.CallState = session.CallConnected
		for i := range s.Members {
			s.Members[i].CallState = session.MemberConnected
		}
	}); err != nil {
		return err
	}
	if err := c.talk(ctx, c.info.AnsweredByName); err != nil {
		return err
	}
	if err := c.pause(2, 8); err != nil {
		return err
	}
	return c.end(ctx)
}

// talk is the conversation: a greeting, the reason in consoleData, a few steps.
func (c *simCall) talk(ctx context.Context, agent string) error {
	if err := c.pause(1, 3); err != nil {
		return err
	}
	if err := c.log(ctx, agent+" greeted the caller."); err != nil {
		return err
	}
	if err := c.pause(2, 6); err != nil {
		return err
	}
	notes := reason(c.r)
	if err := c.patch(ctx, patchBody{ConsoleData: &notes}); err != nil {
		return err
	}
	for range c.r.IntN(3) {
		if err := c.pause(2, 8); err != nil {
			return err
		}
		if err := c.log(ctx, step(c.r)); err != nil {
			return err
		}
	}
	return nil
}

// hold puts the caller on hold for a while and takes them back.
func (c *simCall) hold(ctx context.Context) error {
	c.sim.stats.holds.Add(1)
	if err := c.patch(ctx, patchBody{CallState: ptr(session.CallHold), HoldReason: ptr(session.HoldNone)}); err != nil {
		return err
	}
	if err := c.pause(3, 10); err != nil {
		return err
	}
	return c.patch(ctx, patchBody{CallState: ptr(session.CallConnected)})
}

// transfer hands the call to a colleague: hold (Transferring), the colleague
// rings and joins, the first agent leaves, the call resumes.
func (c *simCall) transfer(ctx context.Context, from string) error {
	to := pick(c.r, agentNames)
	for to == from {
		to = pick(c.r, agentNames)
	}
	c.sim.stats.transfers.Add(1)
	if err := c.patch(ctx, patchBody{CallState: ptr(session.CallHold), HoldReason: ptr(session.HoldTransferring)}); err != nil {
		return err
	}
	toID := agentID(to)
	if err := c.put(ctx, func(s *session.Info) {
		s.Members = append(s.Members, session.Member{Identity: "client:" + toID, EndpointID: "ep-" + toID,
			DisplayName: to, CallState: session.MemberRinging, Role: session.RoleTransfer, CallSid: hexID(c.r, "CA")})
	}); err != nil {
		return err
	}
	if err := c.pause(2, 6); err != nil {
		return err
	}
	if err := c.put(ctx, func(s *session.Info) {
		s.CallState = session.CallConnected
		s.Members = slices.DeleteFunc(s.Members, func(m session.Member) bool { return m.Role == session.RoleAgent })
		for i := range s.Members {
			if s.Members[i].Identity == "client:"+toID {
				s.Members[i].CallState = session.MemberConnected
				s.MostRecentParticipantCallSid = s.Members[i].CallSid
			}
		}
	}); err != nil {
		return err
	}
	return c.log(ctx, from+" transferred the call to "+to+".")
}

// end hangs up: half the time the telephony side writes the final state with an
// outcome, half the time the caller just hangs up (DELETE). Some calls get a
// wrap-up note afterwards, which an ended session still accepts.
func (c *simCall) end(ctx context.Context) error {
	if c.chance(0.5) {
		outcome := pick(c.r, outcomes)
		if err := c.put(ctx, func(s *session.Info) {
			s.CallState, s.QueueState, s.Outcome = session.CallDisconnected, session.QueueDisconnected, outcome
			for i := range s.Members {
				s.Members[i].CallState = session.MemberNone
			}
		}); err != nil {
			return err
		}
	} else if _, _, err := c.sim.api.do(ctx, http.MethodDelete, c.path(), "", nil); err != nil {
		return err
	}
	if c.chance(0.4) {
		if err := c.pause(1, 3); err != nil {
			return nil // ended already: nothing left to hang up
		}
		notes := c.info.ConsoleData + "\nWrap-up: " + pick(c.r, outcomes) + "."
		return c.patch(ctx, patchBody{ConsoleData: &notes})
	}
	return nil
}
