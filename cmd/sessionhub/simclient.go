package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/sessionhub/sessionhub/session"
)

// restClient is the simulator's side of the REST API (DESIGN §2).
type restClient struct {
	base     string // scheme://host[:port][/prefix], no trailing slash
	token    string
	http     *http.Client
	requests *atomic.Int64 // every request sent
}

// apiError is a request the hub answered with an error status; Message is the
// hub's own ResponseStatus message.
type apiError struct {
	Method, Path string
	Status       int
	Code         string
	Message      string
}

func (e *apiError) Error() string {
	msg := e.Message
	if e.Code != "" && msg != "" {
		msg = e.Code + ": " + msg
	}
	return fmt.Sprintf("%s %s: %d %s: %s", e.Method, e.Path, e.Status, http.StatusText(e.Status), msg)
}

func newRESTClient(base, token string, maxConns int, requests *atomic.Int64) *restClient {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = maxConns
	return &restClient{
		base:     strings.TrimRight(base, "/"),
		token:    token,
		http:     &http.Client{Transport: tr, Timeout: 15 * time.Second},
		requests: requests,
	}
}

// do sends one request. body, when not nil, goes as JSON. A 2xx with a body
// decodes into a session; the ETag comes back as the version string to send
// with If-Match.
func (c *restClient) do(ctx context.Context, method, path, ifMatch string, body any) (session.Info, string, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return session.Info{}, "", fmt.Errorf("%s %s: encode: %w", method, path, err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return session.Info{}, "", fmt.Errorf("%s %s: %w", method, path, err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if ifMatch != "" {
		req.Header.Set("If-Match", ifMatch)
	}
	c.requests.Add(1)
	resp, err := c.http.Do(req)
	if err != nil {
		return session.Info{}, "", friendlyNetError(method, path, c.base, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return session.Info{}, "", fmt.Errorf("%s %s: read the answer: %w", method, path, err)
	}
	if resp.StatusCode >= 300 {
		return session.Info{}, "", decodeAPIError(method, path, resp.StatusCode, data)
	}
	var info session.Info
	if len(bytes.TrimSpace(data)) > 0 && (path == "/sessions" || strings.HasPrefix(path, "/sessions/")) {
		if err := json.Unmarshal(data, &info); err != nil {
			return session.Info{}, "", fmt.Errorf("%s %s: the hub answered %d with a body that is not a session: %w", method, path, resp.StatusCode, err)
		}
	}
	return info, resp.Header.Get("ETag"), nil
}

func decodeAPIError(method, path string, status int, data []byte) error {
	var rs struct {
		ResponseStatus struct {
			ErrorCode string `json:"errorCode"`
			Message   string `json:"message"`
		} `json:"responseStatus"`
	}
	e := &apiError{Method: method, Path: path, Status: status}
	if json.Unmarshal(data, &rs) == nil && (rs.ResponseStatus.Message != "" || rs.ResponseStatus.ErrorCode != "") {
		e.Code, e.Message = rs.ResponseStatus.ErrorCode, rs.ResponseStatus.Message
		return e
	}
	msg := strings.TrimSpace(string(data))
	if len(msg) > 200 {
		msg = msg[:200] + "..."
	}
	if msg == "" {
		msg = "(no message)"
	}
	e.Message = msg
	return e
}

// friendlyNetError says "cannot reach the hub" instead of Go's nested dial error.
func friendlyNetError(method, path, base string, err error) error {
	var ne net.Error
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("%s %s: cannot reach the hub at %s: connection refused (is it running?)", method, path, base)
	case errors.Is(err, context.Canceled):
		return fmt.Errorf("%s %s: canceled", method, path)
	case errors.As(err, &ne) && ne.Timeout():
		return fmt.Errorf("%s %s: the hub at %s did not answer in time", method, path, base)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return fmt.Errorf("%s %s: %w", method, path, err)
}

// statusOf is the HTTP status of an apiError, or 0.
func statusOf(err error) int {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae.Status
	}
	return 0
}

// patchBody is the seed's PATCH as JSON; nil fields are left out.
type patchBody struct {
	ConsoleData *string             `json:"consoleData,omitempty"`
	CallState   *session.CallState  `json:"callState,omitempty"`
	HoldReason  *session.HoldReason `json:"holdReason,omitempty"`
	QueueState  *session.QueueState `json:"queueState,omitempty"`
}

func ptr[T any](v T) *T { return &v }
