// Package api is sessionhub's REST side (DESIGN §2 and §5) on Gin: the seed's
// PATCH /sessions/{sessionId} and the rest of the sessions resource, with
// ServiceStack's conventions that EvoVoice callers rely on (fields bound from
// JSON body, query string and form, urlencoded or multipart; case-insensitive
// names; .json suffix, ?format=json, JSONP; X-Http-Method-Override;
// ResponseStatus errors), strong ETags with If-Match, bearer-token auth per
// role and account, a request log with X-Request-Id, and Prometheus HTTP
// metrics by route template.
//
// New also mounts /healthz, /readyz, /metrics, the live hub at /ws and the
// dashboard for every other GET, so the binary serves one handler. The package
// knows nothing of Redis: it talks to a session.Store.
package api
